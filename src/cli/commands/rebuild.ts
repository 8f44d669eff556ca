import { Command } from 'commander';
import { ConfigError, FerryError, RefusedError } from '../../core/errors';
import { createDynamoDbClient } from '../../sink/dynamodb/client';
import { ensureTable } from '../../sink/dynamodb/table-admin';
import { createDecoder } from '../../source/debezium/create-decoder';
import { notificationTopic } from '../../source/debezium/connector-config';
import { type SnapshotProgress, followSnapshot } from '../../source/debezium/notifications';
import { type CatchUp, catchUp } from '../../source/kafka/catch-up';
import { describeGaps, topicHistory } from '../../source/kafka/history';
import { connectSource } from '../../source/mysql/connection';
import { requestSnapshot } from '../../source/mysql/snapshot-signal';
import { groupOffsets, resetGroupOffsets } from '../../source/kafka/offsets';
import { recordAudit } from '../../source/kafka/audit';
import { requireChangeTopic } from '../../source/kafka/change-topic';
import { Worker } from '../../worker';
import { resetTarget, wholeNumber } from '../arguments';
import { commandContext } from '../context';
import { json, print } from '../output';
import { progressBar } from '../progress';

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
const POLL_MS = 1000;

interface Opts {
  mapping: string;
  from: string;
  table?: string;
  withinMessages: string;
  withinSeconds: string;
  snapshot?: boolean;
  acceptPartial?: boolean;
  config?: string;
  json?: boolean;
}

/** A numeric single-column key as Debezium prints it in notifications (`[1024]`), for a progress bar. */
const numericKey = (text: string | undefined) => {
  const m = /^\[?(\d+)\]?$/.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
};

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
    .option(
      '--snapshot',
      "first ask Debezium to re-read the source table (incremental snapshot): complete whatever the topic's retention",
    )
    .option('--accept-partial', 'rebuild from what the topic holds even when its history is incomplete')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: Opts) => {
      const start = resetTarget('--from', opts.from, ['earliest', 'time']);
      const withinMessages = wholeNumber('--within-messages', opts.withinMessages);
      const withinSeconds = wholeNumber('--within-seconds', opts.withinSeconds);
      if (opts.snapshot && opts.acceptPartial)
        throw new ConfigError('--snapshot and --accept-partial: choose one (a rebuild with --snapshot is complete)');
      const ctx = await commandContext(opts);
      const shadow = opts.table ?? `${ctx.mapping.targetTable}-rebuild-${stamp()}`;
      const group = `${ctx.groupId}.rebuild-${shadow}`;
      let worker: Worker | undefined;
      try {
        const admin = await ctx.admin();
        await requireChangeTopic(admin, ctx.topic, ctx.mapping.sourceTable);
        // The shadow table starts empty: it gets exactly what the topic still holds from the start point on.
        const history = await topicHistory(ctx.kafka(), admin, {
          topic: ctx.topic,
          table: ctx.mapping.sourceTable,
          topicPrefix: ctx.config.kafka.topicPrefix,
          mapping: ctx.mapping.name,
          decoder: createDecoder(ctx.config),
        });
        const missing = [
          ...(start.kind === 'earliest' ? [] : [`a rebuild from ${opts.from} replays only the changes from there on`]),
          ...history.missing,
        ];
        const gaps = missing.length === 0 ? undefined : describeGaps({ ...history, missing });
        if (gaps && !opts.snapshot && !opts.acceptPartial)
          throw new RefusedError(
            `${gaps}; a rebuild from it would lack those rows. Pass --snapshot to have Debezium re-read ${ctx.mapping.sourceTable} first (complete), or --accept-partial to rebuild from what is there`,
          );
        if (gaps && opts.acceptPartial && !opts.json) print(`rebuilding anyway (--accept-partial): ${gaps}`);
        const shadowTable = await ensureTable(createDynamoDbClient(ctx.config.dynamodb), {
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
          detail: { shadow, from: opts.from, snapshot: opts.snapshot === true, missing },
        });

        const rebuilding = new Worker(
          { ...ctx.config, http: { ...ctx.config.http, port: 0 } },
          { ...ctx.mapping, targetTable: shadow },
          ctx.logger,
          group,
          shadowTable === 'created' ? 'rebuild-new-table' : 'rebuild',
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
        // The replay runs meanwhile; the snapshot's reads land after everything the topic held.
        let snapshot: (SnapshotProgress & { signal: string }) | undefined;
        if (opts.snapshot) {
          const source = await connectSource(ctx.config.source.url);
          const signal = await requestSnapshot(source, ctx.config.source.signalTable, ctx.mapping.sourceTable).finally(
            () => source.end(),
          );
          const chunks = progressBar(!opts.json, `snapshot of ${ctx.mapping.sourceTable} (signal ${signal})`);
          const done = await Promise.race([
            followSnapshot(ctx.kafka(), admin, {
              topic: notificationTopic(ctx.config.kafka.topicPrefix),
              signalId: signal,
              decoder: createDecoder(ctx.config),
              onProgress: (p) => {
                const [at, max] = [numericKey(p.lastKey), numericKey(p.maximumKey)];
                if (at !== undefined && max !== undefined) chunks.update(at, max);
                else chunks.update(p.chunks);
              },
            }),
            failed,
          ]);
          chunks.stop();
          snapshot = { ...done, signal };
        }
        // The line to reach is the end of the topic now: on a busy table the end keeps moving.
        const sampled = await groupOffsets(admin, group, ctx.topic);
        const rule = {
          targets: new Map(sampled.map((p) => [p.partition, BigInt(p.end)])),
          withinMessages,
          withinSeconds,
        };
        const total = catchUp(sampled, rule, () => undefined).remaining;
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
            json({
              shadow,
              group,
              caughtUp: true,
              reason: state.reason,
              remaining: state.remaining,
              complete: gaps === undefined || snapshot !== undefined,
              missing,
              snapshot: snapshot ?? null,
              cutover: steps,
            }),
          );
        const short =
          state.remaining > 0 ? `, ${state.remaining} messages short (the deployed worker goes on from there)` : '';
        if (snapshot)
          print(
            `snapshot ${snapshot.signal} of ${ctx.mapping.sourceTable} read in ${snapshot.chunks} chunk${snapshot.chunks === 1 ? '' : 's'}${snapshot.rowsScanned === undefined ? '' : ` (${snapshot.rowsScanned} rows)`}`,
          );
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
