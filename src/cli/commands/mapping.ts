import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError, RefusedError, describe } from '../../core/errors';
import { type WriteIntent, itemIdentity } from '../../core/write-intent';
import { applyMapping } from '../../mapping/apply-mapping';
import { schemaChangeFor } from '../../pipeline/schema-watch';
import { itemSignature, readableItem } from '../../mapping/prepare-item';
import { loadMapping } from '../../mapping/load-mapping';
import { scaffoldMapping, scaffoldName } from '../../mapping/scaffold';
import { createDecoder } from '../../source/debezium/create-decoder';
import { JsonEnvelopeDecoder } from '../../source/debezium/json-decoder';
import type { RowSchema } from '../../core/row-schema';
import { describeJudgement } from '../../mapping/columns-read';
import { readRange } from '../../source/kafka/read-range';
import { connectSource } from '../../source/mysql/connection';
import { describeRowKey, rowKey } from '../../source/mysql/row-key';
import { describeTable } from '../../source/mysql/table-shape';
import { loadConfig } from '../../config/config';
import { resetTarget, wholeNumber } from '../arguments';
import { commandContext, resolveMappingPath } from '../context';
import { EXIT } from '../exit-codes';
import { json, print } from '../output';

/** An intent as it would be sent: the prepared item, exact numbers. */
const plain = (i: WriteIntent) =>
  i.kind === 'put'
    ? { kind: i.kind, table: i.table, key: i.key, item: readableItem(i.attributes) }
    : { kind: i.kind, table: i.table, key: i.key };

/** `ferry mapping test|diff|new`: develop mappings against captured events, the live topic, or the source schema. */
export function mappingCommand(setCode: (code: number) => void): Command {
  const mapping = new Command('mapping').description(
    'Develop mappings: run them on captured events, diff a new version, scaffold one',
  );

  mapping
    .command('test <mapping> <events>')
    .description(
      'Print the write intents a mapping produces for captured events (JSON lines: Debezium envelopes or {value} records)',
    )
    .option('--json', 'one JSON object per line')
    .action(async (nameOrPath: string, eventsFile: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const compiled = await loadMapping(resolveMappingPath(nameOrPath, config.mappingsDir));
      if (!existsSync(eventsFile)) throw new ConfigError(`events file ${eventsFile} not found`);
      const decoder = new JsonEnvelopeDecoder();
      let failures = 0;
      let schema: RowSchema | undefined;
      const lines = readFileSync(eventsFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      for (const [index, line] of lines.entries()) {
        const origin = { topic: eventsFile, partition: 0, offset: String(index + 1) };
        try {
          const record = JSON.parse(line) as { value?: unknown; payload?: unknown; schema?: unknown };
          const value =
            'payload' in record || 'op' in record ? line : record.value === null ? null : String(record.value);
          const decoded = await decoder.decode(value === null ? null : Buffer.from(value), origin);
          if (decoded.kind === 'skip') {
            print(
              opts.json
                ? json({ line: index + 1, skip: decoded.reason })
                : `line ${index + 1}: skipped (${decoded.reason})`,
            );
            continue;
          }
          // As a worker does: a change of another table sharing the topic is not the mapping's.
          if (decoded.event.table !== compiled.sourceTable) {
            print(
              opts.json
                ? json({ line: index + 1, skip: 'other-table', table: decoded.event.table })
                : `line ${index + 1}: skipped (a change of ${decoded.event.table}, not ${compiled.sourceTable})`,
            );
            continue;
          }
          // Events of several source schemas: say where the columns change and what that does to the items.
          const change = schema && decoded.schema ? schemaChangeFor(compiled, schema, decoded.schema) : undefined;
          schema = decoded.schema ?? schema;
          if (change)
            print(
              opts.json
                ? json({ line: index + 1, schemaChange: { changes: change.changes, ...change.judgement } }, 0)
                : `line ${index + 1}: the source schema changed (${change.changes}): ${describeJudgement(change.judgement)}`,
            );
          const intents = applyMapping(compiled, decoded.event, config.pipeline).map(plain);
          if (opts.json) print(json({ line: index + 1, op: decoded.event.op, intents }, 0));
          else {
            print(`line ${index + 1}: ${decoded.event.op} ${decoded.event.table}`);
            for (const i of intents)
              print(`  ${i.kind} ${i.table} ${json(i.key, 0)}${'item' in i ? ` ${json(i.item, 0)}` : ''}`);
            if (intents.length === 0) print('  (nothing: filtered out or ignored)');
          }
        } catch (err) {
          failures++;
          print(
            opts.json
              ? json({ line: index + 1, deadLetter: describe(err) }, 0)
              : `line ${index + 1}: would go to the dead letters: ${describe(err)}`,
          );
        }
      }
      setCode(failures === 0 ? EXIT.ok : EXIT.failure);
    });

  mapping
    .command('diff')
    .description('Read the topic (committing nothing) and show which items a new version of the mapping would change')
    .requiredOption('-m, --mapping <mapping>', 'the mapping in production')
    .requiredOption('--new <module>', 'the new version of the mapping module')
    .option('--from <start>', 'earliest | <ISO-8601 time> | <partition>=<offset>,...', 'earliest')
    .option('-n, --examples <n>', 'examples per kind of change', '5')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        mapping: string;
        new: string;
        from: string;
        examples: string;
        config?: string;
        json?: boolean;
      }) => {
        const start = resetTarget('--from', opts.from, ['earliest', 'time', 'offsets']);
        const limit = wholeNumber('--examples', opts.examples);
        const ctx = await commandContext(opts);
        try {
          const next = await loadMapping(opts.new);
          if (next.sourceTable !== ctx.mapping.sourceTable)
            throw new ConfigError(`--new reads ${next.sourceTable}, the mapping reads ${ctx.mapping.sourceTable}`);
          const admin = await ctx.admin();
          const from =
            start.kind === 'offsets'
              ? start.offsets
              : start.kind === 'time'
                ? new Map(
                    (await admin.fetchTopicOffsetsByTimestamp(ctx.topic, start.at.getTime())).map((o) => [
                      o.partition,
                      o.offset,
                    ]),
                  )
                : start.kind === 'latest'
                  ? new Map((await admin.fetchTopicOffsets(ctx.topic)).map((o) => [o.partition, o.high]))
                  : undefined;
          const decoder = createDecoder(ctx.config);
          // Per item, the last intent each version would leave: what the table would end up holding.
          const current = new Map<string, WriteIntent>();
          const proposed = new Map<string, WriteIntent>();
          let events = 0;
          let newErrors = 0;
          // Each source schema the topic holds, at the first position it was seen.
          const schemas = new Map<RowSchema, string>();
          await readRange(ctx.kafka(), {
            topic: ctx.topic,
            from,
            onBatch: async (partition, messages) => {
              for (const m of messages) {
                const decoded = await Promise.resolve()
                  .then(() => decoder.decode(m.value, { topic: ctx.topic, partition, offset: m.offset }))
                  .catch(() => undefined);
                if (!decoded || decoded.kind === 'skip' || decoded.event.table !== ctx.mapping.sourceTable) continue;
                events++;
                const seen = decoded.schema && schemas.get(decoded.schema);
                if (decoded.schema && (seen === undefined || decoded.event.position.version < seen))
                  schemas.set(decoded.schema, decoded.event.position.version);
                for (const [version, into] of [
                  [ctx.mapping, current],
                  [next, proposed],
                ] as const) {
                  try {
                    for (const i of applyMapping({ ...version, targetTable: 'T' }, decoded.event, ctx.config.pipeline))
                      into.set(itemIdentity(i), i);
                  } catch {
                    if (version === next) newErrors++;
                  }
                }
              }
            },
          });
          const changes = { added: [] as object[], removed: [] as object[], changed: [] as object[] };
          const counts = { added: 0, removed: 0, changed: 0, unchanged: 0 };
          const note = (kind: keyof typeof changes, example: object) => {
            counts[kind]++;
            if (changes[kind].length < limit) changes[kind].push(example);
          };
          for (const id of new Set([...current.keys(), ...proposed.keys()])) {
            const a = current.get(id);
            const b = proposed.get(id);
            const live = (i?: WriteIntent) => (i?.kind === 'put' ? i : undefined);
            const [before, after] = [live(a), live(b)];
            if (!before && !after) continue;
            if (!before) note('added', plain(after as WriteIntent));
            else if (!after) note('removed', plain(before));
            else if (itemSignature(before.attributes) !== itemSignature(after.attributes))
              note('changed', {
                key: after.key,
                before: readableItem(before.attributes),
                after: readableItem(after.attributes),
              });
            else counts.unchanged++;
          }
          const ordered = [...schemas].sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([schema]) => schema);
          const schemaChanges = ordered.slice(1).flatMap((after, i) => {
            const before = ordered[i] as RowSchema;
            const current = schemaChangeFor(ctx.mapping, before, after);
            const proposed = schemaChangeFor(next, before, after);
            return current && proposed
              ? [{ changes: current.changes, current: current.judgement, new: proposed.judgement }]
              : [];
          });
          if (opts.json)
            return print(json({ events, newMappingErrors: newErrors, ...counts, examples: changes, schemaChanges }));
          print(`${events} changes read from ${ctx.topic} (${opts.from}); nothing committed`);
          for (const c of schemaChanges)
            print(
              `the source schema changed (${c.changes}): for the mapping in production ${describeJudgement(c.current)}; for the new one ${describeJudgement(c.new)}`,
            );
          print(
            `the new mapping would add ${counts.added}, remove ${counts.removed} and change ${counts.changed} items; ${counts.unchanged} unchanged; ${newErrors} changes it cannot map`,
          );
          for (const kind of ['added', 'removed', 'changed'] as const)
            for (const e of changes[kind]) print(`  ${kind}: ${json(e, 0)}`);
        } finally {
          await ctx.close();
        }
      },
    );

  mapping
    .command('new')
    .description('Scaffold a mapping module, its test and a row type from the source table (information_schema)')
    .requiredOption('--table <db.table>', 'source table')
    .option(
      '--key <columns>',
      'for a table without a primary key or a unique key over NOT NULL columns: the NOT NULL columns that identify a row, comma-separated',
    )
    .option('--dir <dir>', 'where to write (default: the mappings directory)')
    .action(async (opts: { table: string; key?: string; dir?: string }) => {
      if (!/^[^.]+\.[^.]+$/.test(opts.table)) throw new ConfigError('--table must be "db.table"');
      const named = opts.key?.split(',').map((c) => c.trim());
      const config = loadConfig();
      const dir = opts.dir ?? config.mappingsDir;
      const source = await connectSource(config.source.url);
      try {
        const shape = await describeTable(source, opts.table);
        const key = rowKey(shape, named, {
          whenOwnKey: 'refuse',
          namedBy: '--key',
          hint: 'then pass the same columns here: --key <columns>',
        });
        const name = scaffoldName(shape);
        const files = { module: join(dir, `${name}.ts`), test: join(dir, `${name}.test.ts`) };
        const existing = Object.values(files).filter(existsSync);
        if (existing.length > 0)
          throw new RefusedError(
            `${existing.join(' and ')} already ${existing.length === 1 ? 'exists' : 'exist'}; nothing written`,
          );
        const { module, test } = scaffoldMapping(shape, key);
        writeFileSync(files.module, module);
        writeFileSync(files.test, test);
        print(
          `wrote ${files.module} (row type from ${shape.columns.length} columns, items keyed by ${describeRowKey(key)}${key.origin.kind === 'named' ? ', declared as source.key' : ''}) and ${files.test}`,
        );
      } finally {
        await source.end();
      }
    });
  return mapping;
}
