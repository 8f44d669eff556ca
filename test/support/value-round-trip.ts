/**
 * The value round trip: generated rows of every column type go into MariaDB, through the real
 * connector and two workers (numbers DynamoDB cannot hold refused, or kept as text) into
 * DynamoDB Local; then DynamoDB, the dead letters and `ferry verify` are checked against the
 * oracle in value-rows.ts. e2e/values runs a short one, `npm run fuzz` a long one.
 */
import { writeFileSync } from 'node:fs';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { itemSignature } from '../../src/mapping/prepare-item';
import { readRange } from '../../src/source/kafka/read-range';
import { runFerry } from './cli';
import { Scenario } from './scenario';
import { dropTable, dynamoDb, kafka, stack, waitFor } from './stack';
import {
  COLUMNS,
  CREATE_TABLE,
  type History,
  MAPPING_BODY,
  type ValueRow,
  expectedItem,
  history,
  snapshotRead,
  sqlValues,
} from './value-rows';

type Mode = 'error' | 'string';
type Item = Record<string, AttributeValue>;

export interface RoundTripReport {
  seed: number;
  rows: number;
  changes: number;
  columns: number;
  seconds: number;
  modes: Record<
    Mode,
    {
      items: number;
      /** Items that differ from the oracle, missing or extra (first few). */
      mismatches: string[];
      mismatchCount: number;
      deadLetters: number;
      /** Dead letters the oracle did not expect, or expected letters not found. */
      letterMismatches: string[];
      verify: { code: number; missing: number; extra: number; different: number; unmappable: number };
      /** verify's examples of items it found different or missing: each one a disagreement to explain. */
      verifyExamples: string[];
      /** What verify must report for this mode, from the oracle. */
      expectedVerify: { missing: number; extra: number; different: number; unmappable: number };
      blockedPartitions: number;
    }
  >;
}

/**
 * The oracle's replay of a history whose first `snapshotRows` inserts are snapshot reads: final
 * items, refused changes, what verify must say, and the items a snapshot read left different from
 * their row (a YEAR 0000 read as 2000), which verify reports.
 */
function replay(h: History, mode: Mode, snapshotRows: number) {
  const items = new Map<number, Item>();
  const live = new Map<number, ValueRow>();
  const refused: string[] = [];
  const readAsOtherYear = new Set<number>();
  const apply = (r: ValueRow, read = r) => {
    live.set(r.id, r);
    readAsOtherYear.delete(r.id);
    const e = expectedItem(read, mode);
    if ('item' in e) {
      items.set(r.id, e.item);
      if (read !== r) readAsOtherYear.add(r.id);
    } else refused.push(`V#${r.id}:${e.refused[0]}`);
  };
  h.inserts.forEach((r, i) => apply(r, i < snapshotRows ? snapshotRead(r) : r));
  for (const change of h.changes) {
    if (change.kind === 'delete') {
      if (live.delete(change.id)) items.delete(change.id);
      readAsOtherYear.delete(change.id);
    } else apply(change.row);
  }
  // Live rows the mapping cannot prepare: verify counts them unmappable; their older item (if any) is theirs, not extra.
  let unmappable = 0;
  for (const r of live.values()) if ('refused' in expectedItem(r, mode)) unmappable++;
  const different = readAsOtherYear.size;
  return { items, refused, readAsOtherYear, verify: { missing: 0, different, unmappable, extra: 0 } };
}

/** verify's example of an item a snapshot read gave year 2000 where its row holds 0000, and nothing else. */
function readAsOtherYear(
  e: { key: unknown; expected?: Record<string, unknown>; actual?: Record<string, unknown> },
  ids: Set<number>,
): boolean {
  const id = Number(String((e.key as { pk?: string }).pk).slice(2));
  const { c_year: expectedYear, ...expected } = e.expected ?? {};
  const { c_year: actualYear, ...actual } = e.actual ?? {};
  return (
    ids.has(id) &&
    Number(expectedYear) === 0 &&
    Number(actualYear) === 2000 &&
    canonical(expected) === canonical(actual)
  );
}

export async function valueRoundTrip(options: {
  rows: number;
  seed: number;
  /** The connector's converter and the workers' decoder. */
  format?: 'json' | 'avro';
  log?: (line: string) => void;
  /** Where to keep the workers' logs. */
  workerLog?: string;
}): Promise<RoundTripReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const [h] = fc.sample(history(options.rows), { seed: options.seed, numRuns: 1 }) as [History];
  const scenario = new Scenario();
  const tables: Record<Mode, string> = { error: scenario.table, string: `${scenario.table}-text` };
  const names: Record<Mode, string> = { error: `values-${scenario.id}`, string: `values-text-${scenario.id}` };
  try {
    await scenario.setUp(`${CREATE_TABLE('vals')}; SET SESSION time_zone = '+00:00';`);
    await scenario.db.query("SET SESSION time_zone = '+00:00'");
    const placeholders = `(?, ${COLUMNS.map(() => '?').join(', ')})`;
    const insert = (r: ValueRow) =>
      scenario.db.query(`INSERT INTO vals VALUES ${placeholders}`, [r.id, ...sqlValues(r)]);
    // Half the rows become snapshot reads, the rest and every change are streamed.
    const half = Math.ceil(h.inserts.length / 2);
    for (const r of h.inserts.slice(0, half)) await insert(r);
    const format = options.format ?? 'json';
    await scenario.startConnector(format, 'vals');
    const decoding: Record<string, string> =
      format === 'avro'
        ? { FERRY_FORMAT: 'avro', FERRY_SCHEMA_REGISTRY_URL: `${stack.registryUrl}/apis/ccompat/v7` }
        : {};
    const mappings = Object.fromEntries(
      (['error', 'string'] as const).map((mode) => [
        mode,
        scenario.writeMapping(`${mode}.ts`, `name: '${names[mode]}',\n  ${MAPPING_BODY}`, 'vals', tables[mode]),
      ]),
    ) as Record<Mode, string>;
    const workers = {
      error: await scenario.startWorker(mappings.error, decoding),
      string: await scenario.startWorker(mappings.string, { ...decoding, FERRY_PIPELINE_NUMBER_OVERFLOW: 'string' }),
    };
    log(`seed ${options.seed}: ${h.inserts.length} rows (${half} snapshot), ${h.changes.length} changes`);
    for (const r of h.inserts.slice(half)) await insert(r);
    // Debezium writes one message per row change, two for a delete (its tombstone follows).
    let messages = h.inserts.length;
    const exists = new Set(h.inserts.map((r) => r.id));
    for (const change of h.changes) {
      if (change.kind === 'delete') {
        if (exists.delete(change.id)) {
          await scenario.db.query('DELETE FROM vals WHERE id = ?', [change.id]);
          messages += 2;
        }
      } else if (exists.has(change.row.id)) {
        messages++;
        await scenario.db.query(`UPDATE vals SET ${COLUMNS.map((c) => `${c.name} = ?`).join(', ')} WHERE id = ?`, [
          ...sqlValues(change.row),
          change.row.id,
        ]);
      } else {
        exists.add(change.row.id);
        await insert(change.row);
        messages++;
      }
    }

    const report: RoundTripReport = {
      seed: options.seed,
      rows: h.inserts.length,
      changes: h.changes.length,
      columns: COLUMNS.length,
      seconds: 0,
      modes: {} as RoundTripReport['modes'],
    };
    scenario.configureCli();
    for (const mode of ['error', 'string'] as const) {
      const oracle = replay(h, mode, half);
      // Offsets commit only after writes and dead letters are durable: caught up means final.
      await waitFor(
        `${mode}: group ferry.${names[mode]} to catch up`,
        () => caughtUp(`ferry.${names[mode]}`, scenario.topic('vals'), messages),
        Math.max(120_000, options.rows * 60),
        1000,
      ).catch((err: Error) => log(`${mode}: ${err.message}`));
      const mismatches = compare(oracle.items, await scanItems(tables[mode]));
      const letters = await deadLetters(`${scenario.connector?.prefix}.dlq.${names[mode]}`);
      // verify runs with the worker's settings, as an operator would.
      process.env.FERRY_PIPELINE_NUMBER_OVERFLOW = mode;
      const verifyRun = await runFerry('verify', '--mapping', mappings[mode], '--json');
      delete process.env.FERRY_PIPELINE_NUMBER_OVERFLOW;
      const verify = JSON.parse(verifyRun.out || '{}') as Record<string, number> & {
        examples?: Array<{
          kind: string;
          key: unknown;
          expected?: Record<string, unknown>;
          actual?: Record<string, unknown>;
        }>;
      };
      const metrics = await (await fetch(`http://127.0.0.1:${workers[mode].httpPort}/metrics`)).text();
      report.modes[mode] = {
        items: oracle.items.size,
        mismatches: mismatches.slice(0, 10),
        mismatchCount: mismatches.length,
        deadLetters: letters.length,
        letterMismatches: multisetDifference(oracle.refused, letters).slice(0, 10),
        verify: {
          code: verifyRun.code,
          missing: verify.missing ?? -1,
          extra: verify.extra ?? -1,
          different: verify.different ?? -1,
          unmappable: verify.unmappable ?? -1,
        },
        expectedVerify: oracle.verify,
        verifyExamples: (verify.examples ?? [])
          .filter((e) => e.kind === 'different' || e.kind === 'missing')
          .filter((e) => !(e.kind === 'different' && readAsOtherYear(e, oracle.readAsOtherYear)))
          .map((e) => {
            const names = Object.keys({ ...e.expected, ...e.actual });
            // Map attributes come back from DynamoDB in any order.
            const differing = names.filter((n) => canonical(e.expected?.[n]) !== canonical(e.actual?.[n]));
            return `${e.kind} ${JSON.stringify(e.key)}: ${differing.map((n) => `${n}: DynamoDB ${JSON.stringify(e.actual?.[n])}, source ${JSON.stringify(e.expected?.[n])}`).join('; ')}`;
          }),
        blockedPartitions: [...metrics.matchAll(/^ferry_partition_blocked_seconds\{[^}]*\} (\S+)$/gm)].filter(
          (m) => Number(m[1]) > 0,
        ).length,
      };
    }
    report.seconds = Math.round((Date.now() - started) / 1000);
    return report;
  } finally {
    if (options.workerLog) writeFileSync(options.workerLog, scenario.allOutput());
    await scenario.tearDown();
    await dropTable(tables.string);
  }
}

/** Whether the topic holds all `messages` and the group has committed every partition's end offset. */
async function caughtUp(groupId: string, topic: string, messages: number): Promise<boolean> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const total = ends.reduce((sum, e) => sum + BigInt(e.high), 0n);
    return (
      total >= BigInt(messages) && ends.every((e) => BigInt(e.high) === 0n || at.get(e.partition) === BigInt(e.high))
    );
  } finally {
    await admin.disconnect();
  }
}

/** Item differences, each naming the id and the attributes that differ. */
function compare(expected: Map<number, Item>, actual: Map<number, Item>): string[] {
  const out: string[] = [];
  for (const [id, item] of expected) {
    const got = actual.get(id);
    if (!got) out.push(`missing V#${id}`);
    else if (itemSignature(got) !== itemSignature(item)) {
      const names = new Set([...Object.keys(item), ...Object.keys(got)]);
      const differing = [...names].filter(
        (n) => !got[n] || !item[n] || itemSignature({ n: got[n] }) !== itemSignature({ n: item[n] }),
      );
      out.push(
        `different V#${id}: ${differing.map((n) => `${n}: got ${show(got[n])}, want ${show(item[n])}`).join('; ')}`,
      );
    }
  }
  for (const id of actual.keys()) if (!expected.has(id)) out.push(`extra V#${id}`);
  return out;
}

const show = (v: AttributeValue | undefined) =>
  JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x))?.slice(0, 200);

async function scanItems(table: string): Promise<Map<number, Item>> {
  const items = new Map<number, Item>();
  let start: Item | undefined;
  do {
    const page = await dynamoDb().raw.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of page.Items ?? []) {
      delete item._ferry_version;
      items.set(Number(item.id?.N), item);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Each dead letter as `V#<id>:<first refused attribute>`, from its error header. */
async function deadLetters(topic: string): Promise<string[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
  } finally {
    await admin.disconnect();
  }
  const out: string[] = [];
  await readRange(kafka(), {
    topic,
    onBatch: async (_p, messages) => {
      for (const m of messages) {
        const error = m.headers?.['ferry.error.message']?.toString() ?? '';
        const match = /item \{"pk":"(V#\d+)".*?attribute "(\w+)"/.exec(error);
        out.push(match ? `${match[1]}:${match[2]}` : `unexpected: ${error.slice(0, 300)}`);
      }
    },
  });
  return out;
}

function multisetDifference(expected: string[], actual: string[]): string[] {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  for (const a of actual) counts.set(a, (counts.get(a) ?? 0) - 1);
  return [...counts]
    .filter(([, n]) => n !== 0)
    .map(([k, n]) => (n > 0 ? `missing letter ${k}` : `unexpected letter ${k}`));
}

/** JSON with object keys sorted, at every depth. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
