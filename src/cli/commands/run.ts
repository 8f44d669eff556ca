import { Command } from 'commander';
import { commandContext } from '../context';
import { Worker } from '../../worker';

/** Signals closer together than this are one request to stop. */
const SAME_SIGNAL_MS = 1000;

/**
 * `ferry run`: consume one mapping's topic into DynamoDB until SIGTERM/SIGINT. A consumer that
 * kafkajs will not restart stops the worker, as cleanly as it can, with exit 1: the orchestrator
 * starts a new one.
 */
export function runCommand(setCode: (code: number) => void): Command {
  return new Command('run')
    .description('Run the worker for one mapping until SIGTERM or SIGINT; exit 1 if its consumer fails for good')
    .option('-m, --mapping <path>', 'mapping module (or FERRY_MAPPING)')
    .option('-c, --config <file>', 'JSON config file (or FERRY_CONFIG)')
    .action(async (opts: { mapping?: string; config?: string }) => {
      const { config, logger, mapping } = await commandContext(opts, {});
      const worker = new Worker(config, mapping, logger);
      let stop!: (reason: string, code?: number) => void;
      const stopped = new Promise<void>((resolve) => {
        let stoppingAt: number | undefined;
        const fail = (message: string, err?: unknown) => {
          logger.error({ err }, message);
          setCode(1);
          resolve();
        };
        stop = (reason, code = 0) => {
          if (stoppingAt !== undefined) {
            // npm, tsx and `timeout` each relay one Ctrl-C: a repeat within a second is the same request.
            if (Date.now() - stoppingAt < SAME_SIGNAL_MS) return;
            // A deliberate second signal, or Kafka unreachable during leave: give up; uncommitted work only replays.
            return fail(`${reason} again: exiting without a clean stop`);
          }
          stoppingAt = Date.now();
          if (code !== 0) setCode(code);
          logger.info({ reason, deadlineMs: config.shutdownTimeoutMs }, 'stopping');
          setTimeout(() => fail('clean stop took too long: exiting'), config.shutdownTimeoutMs).unref();
          worker.stop().then(resolve, (err: unknown) => fail('stop failed', err));
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
      await worker.start();
      void worker.failed.then((err) => {
        logger.error({ err }, 'consumer failed and kafkajs will not restart it: stopping with exit 1');
        stop('consumer failed', 1);
      });
      await stopped;
    });
}
