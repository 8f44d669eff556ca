import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FerryError, RefusedError } from '../core/errors';
import { connectorCommand } from './commands/connector';
import { consoleCommand } from './commands/console';
import { grantsCommand, iamCommand } from './commands/access';
import { dlqCommand } from './commands/dlq';
import { mappingCommand } from './commands/mapping';
import { offsetsCommand } from './commands/offsets';
import { rebuildCommand } from './commands/rebuild';
import { snapshotCommand } from './commands/snapshot';
import { runCommand } from './commands/run';
import { topicCommand } from './commands/topic';
import { verifyCommand } from './commands/verify';
import { EXIT } from './exit-codes';

export { EXIT } from './exit-codes';

// The same path from src/cli and dist/cli.
const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};

/** Composes the commands; each action returns its exit code, only bin.ts exits. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const setCode = (c: number) => {
    code = c;
  };
  const program = new Command('ferry')
    .description('Carries MySQL/MariaDB changes captured by Debezium from Kafka into DynamoDB')
    .version(version);
  program.addCommand(runCommand(setCode));
  program.addCommand(offsetsCommand());
  program.addCommand(dlqCommand(setCode));
  program.addCommand(verifyCommand(setCode));
  program.addCommand(rebuildCommand());
  program.addCommand(snapshotCommand());
  program.addCommand(topicCommand());
  program.addCommand(mappingCommand(setCode));
  program.addCommand(connectorCommand());
  program.addCommand(consoleCommand());
  program.addCommand(iamCommand());
  program.addCommand(grantsCommand());
  // Settings are not inherited by added commands: without this a usage error would exit the process.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({
      writeErr: (text) => process.stderr.write(text),
      writeOut: (text) => process.stdout.write(text),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
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
