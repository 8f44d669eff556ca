import {
  BatchGetItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { Connection } from 'mysql2/promise';
import type { Config } from '../config/config';
import { ConfigError, describe } from '../core/errors';
import { createRetry } from '../core/retry';
import type { AttributeMap } from '../core/write-intent';
import { VERSION_ATTRIBUTE, prepareMappedItem } from '../mapping/apply-mapping';
import type { Mapping } from '../mapping/define-mapping';
import { itemSignature, readableItem } from '../mapping/prepare-item';
import { type DynamoDbPort, versionGuard } from '../sink/dynamodb/dynamodb-writer';
import { classifyDynamoDbError } from '../sink/dynamodb/errors';
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

const withoutVersion = ({ [VERSION_ATTRIBUTE]: _v, ...rest }: AttributeMap) => rest;

/**
 * Reads the source table in primary-key ranges, applies the mapping, and compares with DynamoDB:
 * items missing, different, or extra (extras only on a full run). With repair, writes are
 * stamped with the binlog position read before the scan, as a snapshot read would be: a change
 * streamed later sorts after it, and an item already holding a newer change is left alone.
 */
export async function verifyMapping(
  source: Connection,
  client: DynamoDbPort,
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
  /** A guarded repair write: false when the item already holds a newer change. */
  const send = (command: PutItemCommand | DeleteItemCommand) =>
    retry(async () => {
      const outcome = await client.send(command as PutItemCommand).then(
        () => 'written' as const,
        (err: unknown) => classifyDynamoDbError(err, table),
      );
      if (outcome === 'stale') return false;
      if (outcome !== 'written') throw outcome;
      return true;
    });

  for await (const rows of readTable(source, shape, {
    batchSize: 500,
    samplePercent: options.samplePercent,
  })) {
    report.sourceRows += rows.length;
    // What the writer would write for each row: the same preparation, so the two cannot disagree.
    const expected = new Map<string, AttributeMap>();
    for (const row of rows) {
      try {
        for (const { key, item } of mapping.itemsOf(row)) {
          const { attributes } = prepareMappedItem(mapping, key, item, config.pipeline);
          expected.set(identity(pick(attributes, keyNames)), attributes);
        }
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
      const key = readableItem(pick(item, keyNames));
      if (got && itemSignature(withoutVersion(got)) === itemSignature(item)) continue;
      note(
        got
          ? { kind: 'different', key, expected: readableItem(item), actual: readableItem(withoutVersion(got)) }
          : { kind: 'missing', key, expected: readableItem(item) },
      );
      if (repairVersion) {
        const Item = { ...item, [VERSION_ATTRIBUTE]: { S: repairVersion } };
        if (await send(new PutItemCommand({ TableName: table, Item, ...versionGuard(repairVersion) })))
          repaired.written++;
        else repaired.skippedNewer++;
      }
    }
    options.onProgress?.(report.sourceRows, total);
  }

  if (fullRun) {
    for await (const page of scanKeys(client, table, keyNames, retry)) {
      for (const key of page.Items ?? []) {
        if (expectedIds.has(identity(key))) continue;
        note({ kind: 'extra', key: readableItem(key) });
        if (repairVersion) {
          if (await send(new DeleteItemCommand({ TableName: table, Key: key, ...versionGuard(repairVersion) })))
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

/** An item's identity from its key attributes (DynamoDB's own form, so keys from a scan and from the mapping agree). */
const identity = (key: AttributeMap) => itemSignature(key);

const pick = (item: AttributeMap, names: string[]): AttributeMap =>
  Object.fromEntries(names.flatMap((k) => (item[k] ? [[k, item[k]]] : [])));

async function batchGet(
  client: DynamoDbPort,
  table: string,
  keyNames: string[],
  keys: AttributeMap[],
  retry: ReturnType<typeof createRetry>,
): Promise<Map<string, AttributeMap>> {
  const found = new Map<string, AttributeMap>();
  for (let i = 0; i < keys.length; i += BATCH_GET) {
    let pending: AttributeMap[] = keys.slice(i, i + BATCH_GET);
    // UnprocessedKeys come back under throttling: ask again for just those, with backoff.
    await retry(async () => {
      const out = await client
        .send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }))
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
  }
  return found;
}

/** Every item's key attributes, a page at a time. */
async function* scanKeys(
  client: DynamoDbPort,
  table: string,
  keyNames: string[],
  retry: ReturnType<typeof createRetry>,
): AsyncGenerator<{ Items?: AttributeMap[] }> {
  let start: AttributeMap | undefined;
  do {
    const page = await retry(() =>
      client
        .send(
          new ScanCommand({
            TableName: table,
            ExclusiveStartKey: start,
            ProjectionExpression: keyNames.map((_k, i) => `#k${i}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(keyNames.map((k, i) => [`#k${i}`, k])),
          }),
        )
        .catch((err: unknown) => {
          throw classifyDynamoDbError(err, table);
        }),
    );
    yield page;
    start = page.LastEvaluatedKey;
  } while (start);
}
