import { Command, CommanderError } from 'commander';
import { FerryError } from '../core/errors';
import { runCommand } from './commands/run';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

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
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof FerryError) {
      process.stderr.write(`ferry: ${err.message}\n`);
      return EXIT.failure;
    }
    throw err;
  }
  return code;
}
