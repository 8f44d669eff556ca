import { DescribeTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Connection } from 'mysql2/promise';
import type { Config } from '../config/config';
import { mapConcurrent } from '../core/concurrency';
import { ConfigError, describe } from '../core/errors';
import { createRetry } from '../core/retry';
import type { ChangeEvent } from '../core/change-event';
import type { AttributeMap, WriteIntent } from '../core/write-intent';
import { prepareMappedItem, preparedKey } from '../mapping/apply-mapping';
import type { Mapping } from '../mapping/define-mapping';
import { itemSignature, readableItem } from '../mapping/prepare-item';
import { type DynamoDbPort, DynamoDbWriter, writerOptions } from '../sink/dynamodb/dynamodb-writer';
import type { DynamoDbBatches, DynamoDbWrites } from '../sink/dynamodb/lean-client';
import { classifyDynamoDbError } from '../sink/dynamodb/errors';
import { VERSION_ATTRIBUTE, formatVersion } from '../core/version';
import { describeRowKey, keyFix, rowKey } from '../source/mysql/row-key';
import { describeTable } from '../source/mysql/table-shape';
import { KeyTemplates } from './key-templates';
import { type SourceRow, binlogPosition, lookupKeys, readRowsByKey, readTable, sharedKeyValue } from './source-reader';

type Item = Record<string, unknown>;

export interface Divergence {
  kind: 'missing' | 'extra' | 'different' | 'unmappable';
  key: Item;
  expected?: Item;
  actual?: Item;
  error?: string;
}

export interface VerifyReport {
  table: string;
  /** The row key source rows were read by, and where it came from: `id (primary key)`, `code (named)`. */
  sourceKey: string;
  sourceRows: number;
  expectedItems: number;
  checkedExtras: boolean;
  missing: number;
  extra: number;
  different: number;
  unmappable: number;
  divergenceRatio: number;
  examples: Divergence[];
  /** How extra items were looked for (full runs only). */
  extraCheck?: {
    /** Items the scan read, and in how many parallel segments. */
    scanned: number;
    segments: number;
    /** How item keys are made of unique-key columns, learned from the rows: each traces a key back to its row. */
    keyTemplates: string[];
    /** Expected keys no template traces, remembered instead: the only memory that grows with the table. */
    keysHeldInMemory: number;
    /** Scanned keys a template reads too many ways to look up, not reported as extra (see key-templates.ts). */
    untraced: number;
  };
  repaired?: { written: number; deleted: number; skippedNewer: number };
}

export interface VerifyOptions {
  samplePercent?: number;
  repair: boolean;
  /** Verify another DynamoDB table than the mapping's target, e.g. a rebuild's shadow table. */
  table?: string;
  examples?: number;
  /** Parallel scan segments for the extra-item check; by default one per SEGMENT_ITEMS items, at least 4. */
  segments?: number;
  onProgress?: (rows: number, total: number) => void;
  onScanProgress?: (items: number, total: number) => void;
}

/**
 * Items per scan segment by default. DynamoDB Local reads a whole segment for every page it
 * returns, so small segments keep its scan linear; DynamoDB itself only needs enough of them.
 */
export const SEGMENT_ITEMS = 10_000;
/** Segments scanned at once: each holds one page of keys and its source rows in memory. */
const SEGMENTS_IN_FLIGHT = 4;
const BATCH_GET = 100;
const BATCH_GETS_IN_FLIGHT = 4;
const PAGE_ROWS = 500;
const LOOKUP_KEYS = 500;

const withoutVersion = ({ [VERSION_ATTRIBUTE]: _v, ...rest }: AttributeMap) => rest;

/** An item the mapping makes of a source row, as the writer would write it. */
interface Expected {
  key: AttributeMap;
  attributes: AttributeMap;
  source: SourceRow;
}

/**
 * Reads the source table in row-key order (see source/mysql/row-key), applies the mapping, and
 * compares with DynamoDB: items missing or different. On a full run a parallel scan of the table then finds extra
 * items, tracing each key back to the source row that would make it (see key-templates.ts).
 * Memory is a page of rows and a page of scanned keys, whatever the size of the table; only
 * keys no template traces are remembered. Every divergence is read again, source first, before
 * it is reported, so a change that lands while verify runs is not taken for one.
 *
 * With repair, writes are stamped with the binlog position read before the scan, as a snapshot
 * read would be: a change streamed later sorts after it, and an item already holding a newer
 * change is left alone. They go through the worker's writer, so a repaired delete is remembered
 * and a repaired create never brings back a row deleted meanwhile.
 */
export async function verifyMapping(
  source: Connection,
  client: DynamoDbPort,
  items: DynamoDbWrites & DynamoDbBatches,
  config: Config,
  mapping: Mapping,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const table = options.table ?? mapping.targetTable;
  await client.send(new DescribeTableCommand({ TableName: table })).catch((err: { name?: string }) => {
    if (err.name === 'ResourceNotFoundException') throw new ConfigError(`DynamoDB table ${table} does not exist`);
    throw classifyDynamoDbError(err, table);
  });
  const maxExamples = options.examples ?? 5;
  const position = options.repair ? await binlogPosition(source) : undefined;
  const repairVersion = position
    ? formatVersion(BigInt(/\.(\d+)$/.exec(position.file)?.[1] ?? 0), position.position, 0, 0, Date.now())
    : undefined;
  const shape = await describeTable(source, mapping.sourceTable);
  const key = rowKey(shape, mapping.sourceKey, {
    namedBy: 'source.key',
    hint: `then declare the columns in the mapping: source: { table: '${mapping.sourceTable}', key: ['<column>', ...] }`,
  });
  if (key.origin.kind === 'named') {
    // Columns the database does not hold unique: rows sharing a value would be skipped by range reads.
    const shared = await sharedKeyValue(source, shape, key.columns);
    if (shared)
      throw new ConfigError(
        `source.key of mapping "${mapping.name}" (${key.columns.join(', ')}) does not identify a row of ${mapping.sourceTable}: several rows hold ${JSON.stringify(shared.map(String))}. Name columns that tell every row apart, or ${keyFix(mapping.sourceTable)}`,
      );
  }
  const [[countRow]] = (await source.query(
    `SELECT COUNT(*) AS n FROM \`${shape.db}\`.\`${shape.table}\``,
  )) as unknown as [[{ n: number }]];
  const total = Math.round((Number(countRow.n) * (options.samplePercent ?? 100)) / 100);
  const retry = createRetry({ maxAttempts: 8 });
  const keyAttributes = [mapping.partitionKey, ...(mapping.sortKey ? [mapping.sortKey] : [])];
  const keyNames = keyAttributes.map((k) => k.name);
  const fullRun = options.samplePercent === undefined || options.samplePercent >= 100;
  const templates = fullRun ? new KeyTemplates(keyAttributes, shape.columns, lookupKeys(shape, key)) : undefined;
  /** Expected keys no template traces back to their row. */
  const held = new Set<string>();
  const report: VerifyReport = {
    table,
    sourceKey: describeRowKey(key),
    sourceRows: 0,
    expectedItems: 0,
    checkedExtras: fullRun,
    missing: 0,
    extra: 0,
    different: 0,
    unmappable: 0,
    divergenceRatio: 0,
    examples: [],
  };
  const repaired = { written: 0, deleted: 0, skippedNewer: 0 };
  const note = (d: Divergence) => {
    report[d.kind]++;
    if (report.examples.filter((e) => e.kind === d.kind).length < maxExamples) report.examples.push(d);
  };
  // Repairs go through the writer: a repaired delete is remembered, a repaired create checks for
  // a remembered delete, exactly as the worker's writes do.
  const writer = new DynamoDbWriter(items, {
    ...writerOptions(config.dynamodb),
    retry: { maxAttempts: 8 },
  });
  const repairedAt = Date.now();
  /** A guarded repair write: false when the item already holds a newer change. */
  const repair = async (op: 'create' | 'update' | 'delete', keyAttributes: AttributeMap, attributes?: AttributeMap) => {
    const event: ChangeEvent = {
      op,
      table: mapping.sourceTable,
      before: null,
      after: null,
      position: { version: repairVersion as string, snapshot: 'incremental', committedAtMs: repairedAt },
      origin: { topic: 'verify --repair', partition: -1, offset: '-1' },
    };
    const key: Record<string, unknown> = { ...keyAttributes };
    const intent: WriteIntent =
      op === 'delete'
        ? { kind: 'delete', table, key, keyAttributes, event }
        : { kind: 'put', table, key, item: {}, attributes: attributes as AttributeMap, event };
    const result = await writer.write([intent]);
    const failed = result.failed[0];
    if (failed) throw failed.error;
    return result.written.length === 1;
  };

  /**
   * The keys of a row whose items cannot be prepared (unmappable): the mapping's keys alone, as a
   * delete sends them. Its items, written from an earlier version of the row, are not extra: a
   * repair must not delete them. None when the mapping cannot even make the keys.
   */
  const unmappableKeys = (row: SourceRow): string[] => {
    try {
      return mapping.itemsOf(row.row).map(({ key }) => identity(pick(preparedKey(mapping, key), keyNames)));
    } catch {
      return [];
    }
  };
  /**
   * What the writer would write for each row: the same preparation, so the two cannot disagree.
   * The keys of unmappable rows go to `unmappable`.
   */
  const expectedOf = (
    rows: SourceRow[],
    onError?: (row: SourceRow, err: unknown) => void,
    unmappable?: Set<string>,
  ) => {
    const expected = new Map<string, Expected>();
    for (const row of rows) {
      try {
        for (const { key, item } of mapping.itemsOf(row.row)) {
          const { attributes } = prepareMappedItem(mapping, key, item, config.pipeline);
          const keyAttributes = pick(attributes, keyNames);
          expected.set(identity(keyAttributes), { key: keyAttributes, attributes, source: row });
        }
      } catch (err) {
        onError?.(row, err);
        for (const id of unmappable ? unmappableKeys(row) : []) unmappable?.add(id);
      }
    }
    return expected;
  };
  const getItems = (keys: AttributeMap[]) => batchGet(items, table, keyNames, keys, retry);
  /** The expected items DynamoDB does not hold as expected. */
  const differences = async (expected: Map<string, Expected>) => {
    const actual = await getItems([...expected.values()].map((e) => e.key));
    return [...expected.values()].flatMap((e) => {
      const got = actual.get(identity(e.key));
      return got && itemSignature(withoutVersion(got)) === itemSignature(e.attributes) ? [] : [{ ...e, got }];
    });
  };

  for await (const page of readAhead(
    readTable(source, shape, { batchSize: PAGE_ROWS, key: key.columns, samplePercent: options.samplePercent }),
  )) {
    report.sourceRows += page.length;
    const expected = expectedOf(
      page,
      (row, err) =>
        note({
          kind: 'unmappable',
          key: Object.fromEntries(key.columns.map((k) => [k, row.row[k]])),
          error: describe(err),
        }),
      // Held as expected keys: the extra check passes them over.
      templates ? held : undefined,
    );
    report.expectedItems += expected.size;
    if (templates) for (const [id, e] of expected) if (!templates.learn(e.source.row, e.key)) held.add(id);
    let divergent = await differences(expected);
    if (divergent.length > 0) {
      // Source first: DynamoDB only ever catches up with the source, never the other way.
      const ids = new Set(divergent.map((d) => identity(d.key)));
      const again = expectedOf(
        await readRowsByKey(
          source,
          shape,
          key.columns,
          divergent.map((d) => d.source.key),
        ),
      );
      divergent = await differences(new Map([...again].filter(([id]) => ids.has(id))));
    }
    for (const { key, attributes, got } of divergent) {
      note(
        got
          ? {
              kind: 'different',
              key: readableItem(key),
              expected: readableItem(attributes),
              actual: readableItem(withoutVersion(got)),
            }
          : { kind: 'missing', key: readableItem(key), expected: readableItem(attributes) },
      );
      if (repairVersion) {
        if (await repair(got ? 'update' : 'create', key, attributes)) repaired.written++;
        else repaired.skippedNewer++;
      }
    }
    options.onProgress?.(report.sourceRows, total);
  }

  if (templates) {
    /** The keys no source row makes now: held keys are expected, the others are traced to their rows. */
    const unexpected = async (keys: AttributeMap[]) => {
      const open = keys.filter((key) => !held.has(identity(key)));
      const lookups = new Map<string, { columns: string[]; tuples: Map<string, unknown[]> }>();
      const partly = new Set<AttributeMap>();
      for (const key of open) {
        const trace = templates.trace(key);
        if (!trace.complete) partly.add(key);
        for (const { columns, tuple } of trace.lookups) {
          const group = lookups.get(columns.join('\0')) ?? { columns, tuples: new Map<string, unknown[]>() };
          group.tuples.set(tupleId(tuple), tuple);
          lookups.set(columns.join('\0'), group);
        }
      }
      const rows: SourceRow[] = [];
      for (const { columns, tuples } of lookups.values())
        rows.push(...(await readRowsByKey(source, shape, columns, [...tuples.values()])));
      const unmappable = new Set<string>();
      const made = expectedOf(rows, undefined, unmappable);
      return open.filter((key) => {
        if (made.has(identity(key)) || unmappable.has(identity(key))) return false;
        // Read too many ways to look every reading up: not reported, so never a false extra.
        if (partly.has(key)) untraced++;
        return !partly.has(key);
      });
    };
    let untraced = 0;
    let scanned = 0;
    const segments = Math.min(
      1_000_000,
      Math.max(1, Math.floor(options.segments ?? Math.max(4, Math.ceil(report.expectedItems / SEGMENT_ITEMS)))),
    );
    await mapConcurrent(
      Array.from({ length: segments }, (_, segment) => segment),
      SEGMENTS_IN_FLIGHT,
      async (segment) => {
        for await (const keys of scanKeys(client, table, keyNames, segment, segments, retry)) {
          scanned += keys.length;
          // A few hundred keys at a time, so no more than that many source rows are held.
          let extras: AttributeMap[] = [];
          for (let i = 0; i < keys.length; i += LOOKUP_KEYS)
            extras.push(...(await unexpected(keys.slice(i, i + LOOKUP_KEYS))));
          // Again, source then DynamoDB: a row inserted or an item deleted meanwhile is no extra.
          if (extras.length > 0) extras = await unexpected(extras);
          if (extras.length > 0) {
            const present = await getItems(extras);
            extras = extras.filter((key) => present.has(identity(key)));
          }
          for (const key of extras) {
            note({ kind: 'extra', key: readableItem(key) });
            if (repairVersion) {
              if (await repair('delete', key)) repaired.deleted++;
              else repaired.skippedNewer++;
            }
          }
          options.onScanProgress?.(scanned, report.expectedItems);
        }
      },
    );
    report.extraCheck = {
      scanned,
      segments,
      keyTemplates: templates.describe(),
      keysHeldInMemory: held.size,
      untraced,
    };
  }
  const divergent = report.missing + report.extra + report.different + report.unmappable;
  report.divergenceRatio = divergent / Math.max(1, report.expectedItems + report.extra);
  if (repairVersion) report.repaired = repaired;
  return report;
}

/** An item's identity from its key attributes (DynamoDB's own form, so keys from a scan and from the mapping agree). */
const identity = (key: AttributeMap) => itemSignature(key);

const tupleId = (tuple: unknown[]) =>
  JSON.stringify(
    tuple.map((v) => (v instanceof Uint8Array ? `b:${Buffer.from(v).toString('base64')}` : `s:${String(v)}`)),
  );

const pick = (item: AttributeMap, names: string[]): AttributeMap =>
  Object.fromEntries(names.flatMap((k) => (item[k] ? [[k, item[k]]] : [])));

/** Reads the next page while this one is compared. */
async function* readAhead<T>(pages: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    let next = pages.next();
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = pages.next();
      next.catch(() => undefined); // rethrown where it is awaited
      yield current.value;
    }
  } finally {
    await pages.return(undefined);
  }
}

async function batchGet(
  client: DynamoDbBatches,
  table: string,
  keyNames: string[],
  keys: AttributeMap[],
  retry: ReturnType<typeof createRetry>,
): Promise<Map<string, AttributeMap>> {
  const found = new Map<string, AttributeMap>();
  const chunks: AttributeMap[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET) chunks.push(keys.slice(i, i + BATCH_GET));
  await mapConcurrent(chunks, BATCH_GETS_IN_FLIGHT, async (chunk) => {
    let pending = chunk;
    // UnprocessedKeys come back under throttling: ask again for just those, with backoff.
    await retry(async () => {
      const out = await client
        .batchGetItem({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } })
        .catch((err: unknown) => {
          throw classifyDynamoDbError(err, table);
        });
      for (const item of out.Responses?.[table] ?? []) found.set(identity(pick(item, keyNames)), item);
      pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
      if (pending.length > 0)
        throw classifyDynamoDbError(
          Object.assign(new Error(`${pending.length} unprocessed keys`), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          }),
          table,
        );
    });
  });
  return found;
}

/** One segment of a parallel scan: the key attributes of its items, a page at a time. */
async function* scanKeys(
  client: DynamoDbPort,
  table: string,
  keyNames: string[],
  segment: number,
  segments: number,
  retry: ReturnType<typeof createRetry>,
): AsyncGenerator<AttributeMap[]> {
  let start: AttributeMap | undefined;
  do {
    const page = await retry(() =>
      client
        .send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: segments,
            ExclusiveStartKey: start,
            ProjectionExpression: keyNames.map((_k, i) => `#k${i}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(keyNames.map((k, i) => [`#k${i}`, k])),
          }),
        )
        .catch((err: unknown) => {
          throw classifyDynamoDbError(err, table);
        }),
    );
    yield page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}
