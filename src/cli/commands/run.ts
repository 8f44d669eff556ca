import { Command } from 'commander';
import { commandContext } from '../context';
import { Worker } from '../../worker';

/** Signals closer together than this are one request to stop. */
const SAME_SIGNAL_MS = 1000;

/** `ferry run`: consume one mapping's topic into DynamoDB until SIGTERM/SIGINT. */
export function runCommand(setCode: (code: number) => void): Command {
  return new Command('run')
    .description('Run the worker for one mapping until SIGTERM or SIGINT')
    .option('-m, --mapping <path>', 'mapping module (or FERRY_MAPPING)')
    .option('-c, --config <file>', 'JSON config file (or FERRY_CONFIG)')
    .action(async (opts: { mapping?: string; config?: string }) => {
      const { config, logger, mapping } = await commandContext(opts, {});
      const worker = new Worker(config, mapping, logger);
      const stopped = new Promise<void>((resolve) => {
        let stoppingAt: number | undefined;
        const fail = (message: string, err?: unknown) => {
          logger.error({ err }, message);
          setCode(1);
          resolve();
        };
        const stop = (signal: string) => {
          if (stoppingAt !== undefined) {
            // npm, tsx and `timeout` each relay one Ctrl-C: a repeat within a second is the same request.
            if (Date.now() - stoppingAt < SAME_SIGNAL_MS) return;
            // A deliberate second signal, or Kafka unreachable during leave: give up; uncommitted work only replays.
            return fail(`${signal} again: exiting without a clean stop`);
          }
          stoppingAt = Date.now();
          logger.info({ signal, deadlineMs: config.shutdownTimeoutMs }, 'stopping');
          setTimeout(() => fail('clean stop took too long: exiting'), config.shutdownTimeoutMs).unref();
          worker.stop().then(resolve, (err: unknown) => fail('stop failed', err));
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
      await worker.start();
      await stopped;
    });
}
