import { Command, CommanderError } from 'commander';
import { ConfigError, FerryError, RefusedError } from '../core/errors';
import { dlqCommand } from './commands/dlq';
import { offsetsCommand } from './commands/offsets';
import { runCommand } from './commands/run';
import { verifyCommand } from './commands/verify';
import { EXIT } from './exit-codes';

export { EXIT } from './exit-codes';

/** Composes the commands; each action returns its exit code, only bin.ts exits. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const setCode = (c: number) => {
    code = c;
  };
  const program = new Command('ferry')
    .description('Carries MySQL/MariaDB changes captured by Debezium from Kafka into DynamoDB')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.addCommand(runCommand(setCode));
  program.addCommand(offsetsCommand());
  program.addCommand(dlqCommand());
  program.addCommand(verifyCommand(setCode));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof FerryError) {
      process.stderr.write(`ferry: ${err.message}\n`);
      return err instanceof ConfigError ? EXIT.usage : err instanceof RefusedError ? EXIT.refused : EXIT.failure;
    }
    throw err;
  }
  return code;
}
