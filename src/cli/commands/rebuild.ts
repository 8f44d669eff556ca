import { Command } from 'commander';
import { ConfigError, FerryError } from '../../core/errors';
import { createDynamoDbClient } from '../../sink/dynamodb/client';
import { ensureTable } from '../../sink/dynamodb/table-admin';
import { type CatchUp, catchUp } from '../../source/kafka/catch-up';
import { groupOffsets, parseResetTarget, resetGroupOffsets } from '../../source/kafka/offsets';
import { recordAudit } from '../../source/kafka/audit';
import { Worker } from '../../worker';
import { commandContext } from '../context';
import { json, print } from '../output';
import { progressBar } from '../progress';

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
const POLL_MS = 1000;

const count = (flag: string, text: string) => {
  if (!/^\d+$/.test(text)) throw new ConfigError(`${flag} "${text}" is not a whole number`);
  return Number(text);
};

interface Opts {
  mapping: string;
  from: string;
  table?: string;
  withinMessages: string;
  withinSeconds: string;
  config?: string;
  json?: boolean;
}

/** `ferry rebuild`: replay the topic into a new shadow table with its own group; the live table is untouched. */
export function rebuildCommand(): Command {
  return new Command('rebuild')
    .description(
      'Rebuild the target into a new shadow table from the topic, up to the end offsets sampled at start; prints how to cut over',
    )
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .option('--from <start>', 'earliest | <ISO-8601 time>', 'earliest')
    .option('--table <name>', 'shadow table name (default <target>-rebuild-<time>)')
    .option(
      '--within-messages <n>',
      'caught up once at most n messages remain before the end offsets sampled at start',
      '0',
    )
    .option(
      '--within-seconds <s>',
      'or once every partition still short of them has written a change committed at the source at most s seconds ago (0: off)',
      '0',
    )
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: Opts) => {
      const start = parseResetTarget(opts.from);
      const withinMessages = count('--within-messages', opts.withinMessages);
      const withinSeconds = count('--within-seconds', opts.withinSeconds);
      const ctx = await commandContext(opts);
      const shadow = opts.table ?? `${ctx.mapping.targetTable}-rebuild-${stamp()}`;
      const group = `${ctx.groupId}.rebuild-${shadow}`;
      let worker: Worker | undefined;
      try {
        const admin = await ctx.admin();
        await ensureTable(createDynamoDbClient(ctx.config.dynamodb), {
          table: shadow,
          partitionKey: ctx.mapping.partitionKey,
          sortKey: ctx.mapping.sortKey,
        });
        // The new group starts where asked; with no committed offsets this needs no refusal check.
        await resetGroupOffsets(admin, group, ctx.topic, start, { dryRun: false });
        await recordAudit(ctx.kafka(), ctx.config.kafka.topicPrefix, {
          action: 'rebuild.start',
          group,
          topic: ctx.topic,
          detail: { shadow, from: opts.from },
        });
        // The line to reach is the end of the topic now: on a busy table the end keeps moving.
        const sampled = await groupOffsets(admin, group, ctx.topic);
        const rule = {
          targets: new Map(sampled.map((p) => [p.partition, BigInt(p.end)])),
          withinMessages,
          withinSeconds,
        };
        const total = catchUp(sampled, rule, () => undefined).remaining;

        const rebuilding = new Worker(
          { ...ctx.config, http: { ...ctx.config.http, port: 0 } },
          { ...ctx.mapping, targetTable: shadow },
          ctx.logger,
          group,
        );
        worker = rebuilding;
        const newest = new Map<number, number>();
        rebuilding.events.on('batch.done', ({ partition, newestCommitMs }) =>
          newest.set(partition, Math.max(newest.get(partition) ?? 0, newestCommitMs)),
        );
        // A consumer that kafkajs gives up on would leave the offsets still forever: fail instead of waiting.
        const failed = rebuilding.failed.then((err) => {
          throw new FerryError(
            `rebuild of ${shadow} failed: ${err.message}; ${shadow} is incomplete: fix the cause and run the rebuild again`,
            { cause: err },
          );
        });
        void failed.catch(() => undefined);
        await Promise.race([rebuilding.start(), failed]);
        const bar = progressBar(!opts.json, `rebuilding ${shadow}`);
        let state: CatchUp;
        for (;;) {
          state = catchUp(await groupOffsets(admin, group, ctx.topic), rule, (p) => newest.get(p));
          bar.update(Math.max(0, total - state.remaining), Math.max(total, 1));
          if (state.reason) break;
          await Promise.race([new Promise((r) => setTimeout(r, POLL_MS)), failed]);
        }
        bar.stop();
        worker = undefined;
        await rebuilding.stop();
        const steps = [
          `ferry verify --mapping ${opts.mapping} --table ${shadow}`,
          `set target.table to '${shadow}' in ${ctx.config.mapping} and deploy the worker with FERRY_KAFKA_GROUP_ID=${group} (it goes on from where the rebuild stopped)`,
          `switch readers to ${shadow}`,
          `when nothing reads ${ctx.mapping.targetTable} any more, delete it and the old group ${ctx.groupId}`,
        ];
        if (opts.json)
          return print(
            json({ shadow, group, caughtUp: true, reason: state.reason, remaining: state.remaining, cutover: steps }),
          );
        const short =
          state.remaining > 0 ? `, ${state.remaining} messages short (the deployed worker goes on from there)` : '';
        print(
          `${shadow} has caught up with ${ctx.topic}: ${state.reason}${short} (group ${group}); ${ctx.mapping.targetTable} was not touched. To cut over:`,
        );
        steps.forEach((step, i) => print(`  ${i + 1}. ${step}`));
      } finally {
        await worker?.stop().catch(() => undefined);
        await ctx.close();
      }
    });
}
