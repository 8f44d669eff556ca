import { Command } from 'commander';
import { connectSource } from '../../source/mysql/connection';
import { requestSnapshot } from '../../source/mysql/snapshot-signal';
import { commandContext } from '../context';
import { json, print } from '../output';

/** `ferry snapshot`: ask Debezium to re-read the source table (incremental snapshot, via the signalling table). */
export function snapshotCommand(): Command {
  return new Command('snapshot')
    .description(
      "Ask Debezium for an incremental snapshot of the mapping's source table, e.g. for history no longer in Kafka",
    )
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .option('--where <condition>', 'only rows matching this SQL condition')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { mapping: string; where?: string; config?: string; json?: boolean }) => {
      const ctx = await commandContext(opts);
      const source = await connectSource(ctx.config.source.url);
      try {
        const id = await requestSnapshot(source, ctx.config.source.signalTable, ctx.mapping.sourceTable, opts.where);
        if (opts.json) return print(json({ signal: id, table: ctx.mapping.sourceTable, where: opts.where ?? null }));
        print(
          `signal ${id} sent: Debezium will re-read ${ctx.mapping.sourceTable}${opts.where ? ` where ${opts.where}` : ''}; the rows arrive as snapshot reads and the worker writes them (items holding a newer change are left alone)`,
        );
      } finally {
        await source.end();
        await ctx.close();
      }
    });
}
