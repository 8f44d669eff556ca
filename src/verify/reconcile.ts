import { BatchGetCommand, DeleteCommand, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Connection } from 'mysql2/promise';
import type { Config } from '../config/config';
import { ConfigError, describe } from '../core/errors';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createRetry } from '../core/retry';
import { itemIdentity } from '../core/write-intent';
import { VERSION_ATTRIBUTE } from '../mapping/apply-mapping';
import type { Mapping } from '../mapping/define-mapping';
import type { DocClient } from '../sink/dynamodb/dynamodb-writer';
import { classifyDynamoDbError, isConditionFailure } from '../sink/dynamodb/errors';
import { formatVersion } from '../source/debezium/position';
import { binlogPosition, describeTable, readTable } from './source-reader';

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
  sourceRows: number;
  expectedItems: number;
  checkedExtras: boolean;
  missing: number;
  extra: number;
  different: number;
  unmappable: number;
  divergenceRatio: number;
  examples: Divergence[];
  repaired?: { written: number; deleted: number; skippedNewer: number };
}

export interface VerifyOptions {
  samplePercent?: number;
  repair: boolean;
  /** Verify another DynamoDB table than the mapping's target, e.g. a rebuild's shadow table. */
  table?: string;
  examples?: number;
  onProgress?: (rows: number, total: number) => void;
}

const BATCH_GET = 100;

/** Numbers as exact text without insignificant zeros, binary as base64: how DynamoDB returns them. */
function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'bigint') return canonicalNumber(String(value));
  if (value instanceof Uint8Array) return `b64:${Buffer.from(value).toString('base64')}`;
  if (value instanceof Set) return [...value].map(canonical).sort();
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object') {
    if ('toAttributeValue' in value) return canonicalNumber(String(value));
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

function canonicalNumber(text: string): string {
  let t = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  t = t.replace(/^(-?)0+(?=\d)/, '$1');
  return t === '-0' ? '0' : t;
}

const withoutVersion = ({ [VERSION_ATTRIBUTE]: _v, ...rest }: Item) => rest;
const same = (a: Item, b: Item) =>
  JSON.stringify(canonical(withoutVersion(a))) === JSON.stringify(canonical(withoutVersion(b)));

/**
 * Reads the source table in primary-key ranges, applies the mapping, and compares with DynamoDB:
 * items missing, different, or extra (extras only on a full run). With repair, writes are
 * stamped with the binlog position read before the scan, as a snapshot read would be: a change
 * streamed later sorts after it, and an item already holding a newer change is left alone.
 */
export async function verifyMapping(
  source: Connection,
  client: DocClient,
  config: Config,
  mapping: Mapping,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const table = options.table ?? mapping.targetTable;
  await client.send(new DescribeTableCommand({ TableName: table }) as never).catch((err: { name?: string }) => {
    if (err.name === 'ResourceNotFoundException') throw new ConfigError(`DynamoDB table ${table} does not exist`);
    throw classifyDynamoDbError(err, table);
  });
  const maxExamples = options.examples ?? 5;
  const position = options.repair ? await binlogPosition(source) : undefined;
  const repairVersion = position
    ? formatVersion(BigInt(/\.(\d+)$/.exec(position.file)?.[1] ?? 0), position.position, 0, 0)
    : undefined;
  const shape = await describeTable(source, mapping.sourceTable);
  const [[countRow]] = (await source.query(
    `SELECT COUNT(*) AS n FROM \`${shape.db}\`.\`${shape.table}\``,
  )) as unknown as [[{ n: number }]];
  const total = Math.round((Number(countRow.n) * (options.samplePercent ?? 100)) / 100);
  const retry = createRetry({ maxAttempts: 8 });
  const keyNames = [mapping.partitionKey.name, ...(mapping.sortKey ? [mapping.sortKey.name] : [])];
  const fullRun = options.samplePercent === undefined || options.samplePercent >= 100;
  const expectedIds = new Set<string>();
  const report: VerifyReport = {
    table,
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
  const guarded = (version: string) => ({
    ConditionExpression: 'attribute_not_exists(#v) OR #v <= :v',
    ExpressionAttributeNames: { '#v': VERSION_ATTRIBUTE },
    ExpressionAttributeValues: { ':v': version },
  });
  const send = async (command: PutCommand | DeleteCommand) => {
    try {
      await retry(async () => {
        try {
          await client.send(command as never);
        } catch (err) {
          if (isConditionFailure(err)) throw err;
          throw classifyDynamoDbError(err, table);
        }
      });
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  };

  for await (const rows of readTable(source, shape, {
    batchSize: 500,
    samplePercent: options.samplePercent,
    decode: { decimalOverflow: config.pipeline.decimalOverflow },
  })) {
    report.sourceRows += rows.length;
    const expected = new Map<string, Item>();
    for (const row of rows) {
      try {
        for (const { key, item } of mapping.itemsOf(row)) expected.set(identity(table, key), { ...item, ...key });
      } catch (err) {
        note({
          kind: 'unmappable',
          key: Object.fromEntries(shape.primaryKey.map((k) => [k, row[k]])),
          error: describe(err),
        });
      }
    }
    report.expectedItems += expected.size;
    const actual = await batchGet(
      client,
      table,
      keyNames,
      [...expected.values()].map((item) => pick(item, keyNames)),
      retry,
    );
    for (const [id, item] of expected) {
      expectedIds.add(id);
      const got = actual.get(id);
      const key = pick(item, keyNames);
      if (got && same(got, item)) continue;
      note(
        got
          ? { kind: 'different', key, expected: item, actual: withoutVersion(got) }
          : { kind: 'missing', key, expected: item },
      );
      if (repairVersion) {
        if (
          await send(
            new PutCommand({
              TableName: table,
              Item: { ...item, [VERSION_ATTRIBUTE]: repairVersion },
              ...guarded(repairVersion),
            }),
          )
        )
          repaired.written++;
        else repaired.skippedNewer++;
      }
    }
    options.onProgress?.(report.sourceRows, total);
  }

  if (fullRun) {
    for await (const page of paginateScan(
      { client: client as never },
      {
        TableName: table,
        ProjectionExpression: keyNames.map((_k, i) => `#k${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(keyNames.map((k, i) => [`#k${i}`, k])),
      },
    )) {
      for (const key of page.Items ?? []) {
        if (expectedIds.has(identity(table, key))) continue;
        note({ kind: 'extra', key });
        if (repairVersion) {
          if (await send(new DeleteCommand({ TableName: table, Key: key, ...guarded(repairVersion) })))
            repaired.deleted++;
          else repaired.skippedNewer++;
        }
      }
    }
  }
  const divergent = report.missing + report.extra + report.different + report.unmappable;
  report.divergenceRatio = divergent / Math.max(1, report.expectedItems + report.extra);
  if (repairVersion) report.repaired = repaired;
  return report;
}

const identity = (table: string, key: Item) => itemIdentity({ kind: 'delete', table, key, event: undefined as never });

const pick = (item: Item, names: string[]) => Object.fromEntries(names.map((k) => [k, item[k]]));

async function batchGet(
  client: DocClient,
  table: string,
  keyNames: string[],
  keys: Item[],
  retry: ReturnType<typeof createRetry>,
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  for (let i = 0; i < keys.length; i += BATCH_GET) {
    let pending: Item[] = keys.slice(i, i + BATCH_GET);
    // UnprocessedKeys come back under throttling: ask again for just those, with backoff.
    await retry(async () => {
      const out = await client
        .send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }))
        .catch((err: unknown) => {
          throw classifyDynamoDbError(err, table);
        });
      for (const item of out.Responses?.[table] ?? []) found.set(identity(table, pick(item, keyNames)), item);
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
      if (pending.length > 0)
        throw classifyDynamoDbError(
          Object.assign(new Error(`${pending.length} unprocessed keys`), { name: 'ThrottlingException' }),
          table,
        );
    });
  }
  return found;
}
