/** One isolated end-to-end scenario: its own database, connector, topic prefix, DynamoDB table and group. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { Row } from '../../src/core/change-event';
import { loadMapping } from '../../src/mapping/load-mapping';
import { itemIdentity } from '../../src/core/write-intent';
import {
  connectorNames,
  dropTable,
  kafka,
  mariadb,
  registerConnector,
  removeConnector,
  scanAll,
  stack,
  startWorker,
  uniqueId,
  waitFor,
  type RunningWorker,
} from './stack';

export class Scenario {
  readonly id = uniqueId();
  readonly database = `ferry_test_${this.id}`;
  readonly table = `ferry-test-${this.id}`;
  readonly dir = mkdtempSync(join(tmpdir(), `ferry-${this.id}-`));
  db!: Connection;
  connector?: Awaited<ReturnType<typeof registerConnector>>;
  private readonly workers: RunningWorker[] = [];
  readonly outputs: string[] = [];

  /** Creates the database and runs the schema and seed statements (seed rows become snapshot reads). */
  async setUp(sql: string): Promise<this> {
    this.db = await mariadb();
    await this.db.query(`CREATE DATABASE ${this.database} CHARACTER SET utf8mb4; USE ${this.database}; ${sql}`);
    return this;
  }

  async startConnector(
    format: 'json' | 'avro' = 'json',
    sourceTable = 'accounts',
    overrides: Record<string, string> = {},
  ): Promise<void> {
    this.connector = await registerConnector({ id: this.id, database: this.database, format, overrides });
    await waitFor(
      `topic ${this.topic(sourceTable)}`,
      async () => (await this.topics()).includes(this.topic(sourceTable)),
      90_000,
    );
  }

  topic(sourceTable = 'accounts'): string {
    return `${connectorNames(this.id).prefix}.${this.database}.${sourceTable}`;
  }

  /** The stack trace of the connector's failed task, if one failed (by default the scenario's connector). */
  async connectorFailure(name = connectorNames(this.id).name): Promise<string | undefined> {
    const res = await fetch(`${stack.connectUrl}/connectors/${name}/status`);
    const status = (await res.json()) as { tasks?: Array<{ state: string; trace?: string }> };
    return status.tasks?.find((t) => t.state === 'FAILED')?.trace;
  }

  async topics(): Promise<string[]> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  }

  /** Writes a mapping module; `body` is the object passed to defineMapping, with source and target filled in. */
  writeMapping(file: string, body: string, sourceTable = 'accounts', targetTable = this.table): string {
    const path = join(this.dir, file);
    writeFileSync(
      path,
      `import { defineMapping } from 'ferry';
export default defineMapping<any>({
  source: { table: '${this.database}.${sourceTable}' },
  target: { table: '${targetTable}', partitionKey: 'pk', sortKey: 'sk' },
  ${body}
});
`,
    );
    return path;
  }

  /** A table `things` (id, name) with one row, captured by a JSON connector; returns a mapping of it to `T#<id>` items. */
  async startThings(): Promise<string> {
    await this.setUp(
      'CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO things VALUES (1, "one")',
    );
    await this.startConnector('json', 'things');
    return this.writeMapping(
      'things.ts',
      `name: 'things-${this.id}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),`,
      'things',
    );
  }

  /** Points in-process CLI commands (runFerry) at this scenario's topics and the local stack. */
  configureCli(): void {
    Object.assign(process.env, {
      FERRY_KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      FERRY_KAFKA_TOPIC_PREFIX: this.connector?.prefix,
      FERRY_DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
      FERRY_SOURCE_URL: `mysql://ferry:ferry@127.0.0.1:${stack.mariadb.port}`,
      FERRY_LOG_LEVEL: 'error',
    });
  }

  async startWorker(mappingPath: string, env: Record<string, string> = {}): Promise<RunningWorker> {
    const worker = await startWorker({
      FERRY_MAPPING: mappingPath,
      FERRY_KAFKA_TOPIC_PREFIX: this.connector?.prefix ?? '',
      ...env,
    });
    this.workers.push(worker);
    return worker;
  }

  /** Everything the scenario's workers printed, for failure messages and log analysis. */
  allOutput(): string {
    return [...this.outputs, ...this.workers.map((w) => w.output())].join('\n');
  }

  /** What the mapping says of the source table's current rows, keyed like DynamoDB items. */
  async expectedItems(
    mappingPath: string,
    select: string,
    decode: (row: Row) => Row = (r) => r,
  ): Promise<Map<string, Record<string, unknown>>> {
    const mapping = await loadMapping(mappingPath);
    const [rows] = (await this.db.query(select)) as unknown as [Row[]];
    const items = new Map<string, Record<string, unknown>>();
    for (const row of rows.map(decode)) {
      for (const { key, item } of mapping.itemsOf(row)) {
        items.set(itemIdentity({ table: this.table, key }), normalize({ ...item, ...key }));
      }
    }
    return items;
  }

  async actualItems(): Promise<Map<string, Record<string, unknown>>> {
    const items = new Map<string, Record<string, unknown>>();
    for (const { _ferry_version, ...item } of await scanAll(this.table)) {
      const key = { pk: item.pk, sk: item.sk };
      if (!/^v1:\d{10}-\d{20}-\d{10}-[012]@\d{15}$/.test(String(_ferry_version)))
        throw new Error(`item ${JSON.stringify(key)} carries a malformed version ${String(_ferry_version)}`);
      items.set(itemIdentity({ table: this.table, key }), normalize(item));
    }
    return items;
  }

  /** Items the mapping expects of MariaDB's rows, and how DynamoDB differs from them: missing, extra, different. */
  async divergence(
    mappingPath: string,
    select: string,
    decode?: (row: Row) => Row,
  ): Promise<{ size: number; diff: string[] }> {
    const [expected, actual] = await Promise.all([this.expectedItems(mappingPath, select, decode), this.actualItems()]);
    return { size: expected.size, diff: differences(expected, actual) };
  }

  /** Waits until DynamoDB holds exactly what the mapping says of MariaDB, or fails with the differences. */
  async expectConverged(
    mappingPath: string,
    select: string,
    decode?: (row: Row) => Row,
    timeoutMs = 120_000,
  ): Promise<number> {
    let diff: string[] = [];
    let size = 0;
    await waitFor(
      'DynamoDB to match the mapping of MariaDB',
      async () => {
        ({ size, diff } = await this.divergence(mappingPath, select, decode));
        return diff.length === 0;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\n${diff.length} differences, first: ${diff.slice(0, 8).join('\n')}\n--- workers ---\n${this.allOutput().slice(-3000)}`,
      );
    });
    return size;
  }

  async tearDown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop('SIGKILL')));
    await removeConnector(connectorNames(this.id).name);
    await this.db?.query(`DROP DATABASE IF EXISTS ${this.database}`).catch(() => undefined);
    await this.db?.end();
    await dropTable(this.table);
  }
}

/** Numbers compare as text: DynamoDB Numbers are exact decimals. */
function normalize(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    const numeric =
      typeof v === 'number' ||
      typeof v === 'bigint' ||
      (v !== null && typeof v === 'object' && 'toAttributeValue' in v);
    out[k] = numeric ? canonicalNumber(String(v)) : v;
  }
  return out;
}

/** DynamoDB drops insignificant zeros: 1000.50 is stored as 1000.5. */
const canonicalNumber = (text: string) => (text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text);

function differences(
  expected: Map<string, Record<string, unknown>>,
  actual: Map<string, Record<string, unknown>>,
): string[] {
  const out: string[] = [];
  for (const [id, item] of expected) {
    const got = actual.get(id);
    if (!got) out.push(`missing ${JSON.stringify(item)}`);
    else if (JSON.stringify(sorted(got)) !== JSON.stringify(sorted(item)))
      out.push(`different ${JSON.stringify(got)} != ${JSON.stringify(item)}`);
  }
  for (const [id, item] of actual) if (!expected.has(id)) out.push(`extra ${JSON.stringify(item)}`);
  return out;
}

const sorted = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
