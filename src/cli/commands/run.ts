import { Command } from 'commander';
import { commandContext } from '../context';
import { Worker } from '../../worker';

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
        let stopping = false;
        const fail = (message: string, err?: unknown) => {
          logger.error({ err }, message);
          setCode(1);
          resolve();
        };
        const stop = (signal: string) => {
          // A second signal, or Kafka unreachable during leave: give up; uncommitted work only replays.
          if (stopping) return fail(`${signal} again: exiting without a clean stop`);
          stopping = true;
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
