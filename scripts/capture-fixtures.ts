/**
 * Captures real Debezium change events of a table that covers every MariaDB column type ferry
 * decodes, into test/fixtures/debezium/<variant>/all_types.jsonl (and, for Avro, the registry
 * schemas those messages reference, in schemas.json). Needs the local stack (scripts/stack.sh up).
 *
 *   npx tsx scripts/capture-fixtures.ts
 *
 * Re-runnable: every run uses a fresh database `ferry_test_fixtures_<random>` and fresh
 * connectors and topic prefixes, overwrites the fixture files, and removes its connectors,
 * topics, consumer group and database when done (or when it fails).
 *
 * What happens, in order (test/unit/debezium-decoding.test.ts relies on it):
 * 1. rows 1..4 (max, min, typical with a DECIMAL(65,30) over 38 digits, all NULL) are inserted;
 * 2. one connector per variant is registered; rows 1..4 arrive as snapshot reads (`op: r`);
 * 3. streamed, each statement on its own (autocommit): column c_json_late JSON added; rows
 *    11..14 (copies of 1..4, c_json_late = c_json) inserted; row 12 updated; row 11's primary
 *    key changed to 21; row 14 deleted;
 * 4. one transaction: row 1 updated twice, rows 30 and 31 inserted by one statement, row 2
 *    deleted.
 * Every variant's connector sees the same binlog, so positions are equal across variants.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { ROOT, kafka, mariadb, registerConnector, stack, uniqueId, waitFor } from '../test/support/stack';

interface Variant {
  name: string;
  format: 'json' | 'avro';
  /** Connector settings on top of debezium/mariadb-<format>.json. */
  overrides: Record<string, string>;
}

/** The shipped connector configs with each decimal.handling.mode. */
const variants: Variant[] = [
  { name: 'json-precise', format: 'json', overrides: { 'decimal.handling.mode': 'precise' } },
  { name: 'json-string', format: 'json', overrides: { 'decimal.handling.mode': 'string' } },
  { name: 'json-double', format: 'json', overrides: { 'decimal.handling.mode': 'double' } },
  { name: 'avro-precise', format: 'avro', overrides: { 'decimal.handling.mode': 'precise' } },
];

const FIXTURES = join(ROOT, 'test', 'fixtures', 'debezium');

const TABLE = `CREATE TABLE all_types (
  id INT NOT NULL PRIMARY KEY,
  c_tinyint TINYINT NULL,
  c_smallint SMALLINT NULL,
  c_mediumint MEDIUMINT NULL,
  c_int INT NULL,
  c_bigint BIGINT NULL,
  c_bigint_unsigned BIGINT UNSIGNED NULL,
  c_decimal DECIMAL(38,10) NULL,
  c_decimal_wide DECIMAL(65,30) NULL,
  c_numeric NUMERIC(5,2) NULL,
  c_float FLOAT NULL,
  c_double DOUBLE NULL,
  c_bit1 BIT(1) NULL,
  c_bit10 BIT(10) NULL,
  c_bit64 BIT(64) NULL,
  c_boolean BOOLEAN NULL,
  c_date DATE NULL,
  c_time TIME(6) NULL,
  c_datetime6 DATETIME(6) NULL,
  c_datetime DATETIME NULL,
  c_timestamp6 TIMESTAMP(6) NULL,
  c_timestamp TIMESTAMP NULL,
  c_year YEAR NULL,
  c_char CHAR(10) NULL,
  c_varchar VARCHAR(100) NULL,
  c_text TEXT NULL,
  c_blob BLOB NULL,
  c_binary BINARY(16) NULL,
  c_varbinary VARBINARY(32) NULL,
  c_enum ENUM('small','medium','large') NULL,
  c_set SET('a','b','c') NULL,
  c_json JSON NULL,
  c_geometry GEOMETRY NULL,
  c_point POINT NULL
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

/** Column values as SQL text; strings are escaped with the connection's escape(). */
type SqlRow = Record<string, string>;

const bits = (value: bigint) => `b'${value.toString(2)}'`;

function rows(esc: (value: unknown) => string): Record<'max' | 'min' | 'typical', SqlRow> {
  return {
    max: {
      c_tinyint: '127',
      c_smallint: '32767',
      c_mediumint: '8388607',
      c_int: '2147483647',
      c_bigint: '9223372036854775807',
      c_bigint_unsigned: '18446744073709551615',
      c_decimal: '1234567890123456789012345678.1234567890',
      c_decimal_wide: '12345678901234567890.123456789012345678',
      c_numeric: '999.99',
      c_float: '3.14',
      c_double: '2.718281828459045',
      c_bit1: "b'1'",
      c_bit10: bits(513n),
      c_bit64: bits(2n ** 64n - 1n),
      c_boolean: 'TRUE',
      c_date: "'9999-12-31'",
      c_time: "'838:59:59.000000'",
      c_datetime6: "'9999-12-31 23:59:59.999999'",
      c_datetime: "'9999-12-31 23:59:59'",
      c_timestamp6: "'2038-01-19 03:14:07.999999'",
      c_timestamp: "'2038-01-19 03:14:07'",
      c_year: '2155',
      c_char: esc('abc'),
      c_varchar: esc('Émile Zola 📚 日本語 ñ'),
      c_text: esc('line1\nline2\t"quoted" \\ back'),
      c_blob: "x'00FF10807F'",
      c_binary: "x'00112233445566778899AABBCCDDEEFF'",
      c_varbinary: "x'DEADBEEF'",
      c_enum: "'large'",
      c_set: "'a,c'",
      c_json: esc(
        '{"nested": {"list": [1, 2, {"k": "v"}], "flag": true, "none": null}, "big": 12345678901234567890, "text": "日本 ✓"}',
      ),
      c_geometry: "ST_GeomFromText('LINESTRING(0 0, 1 1, 2 1)')",
      c_point: 'POINT(1.5, -2.25)',
    },
    min: {
      c_tinyint: '-128',
      c_smallint: '-32768',
      c_mediumint: '-8388608',
      c_int: '-2147483648',
      c_bigint: '-9223372036854775808',
      c_bigint_unsigned: '0',
      c_decimal: '-9999999999999999999999999999.9999999999',
      c_decimal_wide: '-0.000000000000000000000000000001',
      c_numeric: '-999.99',
      c_float: '-1.5',
      c_double: '-1e-300',
      c_bit1: "b'0'",
      c_bit10: bits(0n),
      c_bit64: bits(2n ** 63n),
      c_boolean: 'FALSE',
      c_date: "'0001-01-01'",
      c_time: "'-838:59:59.000000'",
      c_datetime6: "'0001-01-01 00:00:00.000000'",
      c_datetime: "'0001-01-01 00:00:00'",
      c_timestamp6: "'1970-01-01 00:00:01.000000'",
      c_timestamp: "'1970-01-01 00:00:01'",
      c_year: '0',
      c_char: esc(''),
      c_varchar: esc(''),
      c_text: esc(''),
      c_blob: "x''",
      c_binary: "x'01'",
      c_varbinary: "x''",
      c_enum: "'small'",
      c_set: "''",
      c_json: esc('[]'),
      c_geometry: "ST_GeomFromText('POINT(10 20)', 4326)",
      c_point: "ST_PointFromText('POINT(0 0)', 4326)",
    },
    typical: {
      c_tinyint: '1',
      c_smallint: '-2',
      c_mediumint: '300',
      c_int: '42',
      c_bigint: '9007199254740993',
      c_bigint_unsigned: '9223372036854775808',
      c_decimal: '0.0000000001',
      c_decimal_wide: '12345678901234567890123456789012345.123456789012345678901234567890',
      c_numeric: '1.50',
      c_float: '1e-10',
      c_double: '1.7976931348623157e308',
      c_bit1: "b'1'",
      c_bit10: bits(2n),
      c_bit64: bits(0x0102030405060708n),
      c_boolean: '1',
      c_date: "'2024-02-29'",
      c_time: "'-00:00:01.500000'",
      c_datetime6: "'2024-03-01 13:45:00.120000'",
      c_datetime: "'2024-03-01 13:45:00'",
      c_timestamp6: "'2024-03-01 13:45:00.120000'",
      c_timestamp: "'2024-03-01 13:45:00'",
      c_year: '2024',
      c_char: esc('x y'),
      c_varchar: esc('Ünïcödé ✓ 中文 🎉🚀'),
      c_text: esc('日本語のテキスト'),
      c_blob: "x'0001020304FEFF'",
      c_binary: "x'AABBCCDDEEFF00112233445566778800'",
      c_varbinary: "x'00'",
      c_enum: "'medium'",
      c_set: "'a,b,c'",
      c_json: esc('{"neg": -9223372036854775809, "pi": 3.14159, "s": "x"}'),
      c_geometry: "ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 0))')",
      c_point: 'POINT(-122.4194, 37.7749)',
    },
  };
}

function insert(id: number, row: SqlRow | null): string {
  if (row === null) return `INSERT INTO all_types (id) VALUES (${id})`;
  return `INSERT INTO all_types (id, ${Object.keys(row).join(', ')}) VALUES (${id}, ${Object.values(row).join(', ')})`;
}

/** Messages one variant's topic must hold once everything is captured. */
const SNAPSHOT_MESSAGES = 4;
// Streamed: 4 inserts; 1 update; PK change (d, tombstone, c); delete (d, tombstone);
// transaction (u, u, c, c, d, tombstone).
const ALL_MESSAGES = SNAPSHOT_MESSAGES + 4 + 1 + 3 + 2 + 6;

interface Captured {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
}

async function main() {
  const database = `ferry_test_fixtures_${uniqueId()}`;
  const db = await mariadb();
  const connectors: Array<Awaited<ReturnType<typeof registerConnector>>> = [];
  const admin = kafka().admin();
  await admin.connect();
  const groupId = `ferry-capture-fixtures-${uniqueId()}`;
  try {
    await db.query(`SET time_zone = '+00:00'`);
    await db.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await db.query(`USE ${database}`);
    await db.query(TABLE);
    const sql = rows((v) => db.escape(v));
    await db.query(insert(1, sql.max));
    await db.query(insert(2, sql.min));
    await db.query(insert(3, sql.typical));
    await db.query(insert(4, null));

    const topics: Record<string, string> = {};
    for (const variant of variants) {
      const connector = await registerConnector({
        id: uniqueId(),
        database,
        format: variant.format,
        overrides: variant.overrides,
      });
      connectors.push(connector);
      topics[variant.name] = `${connector.prefix}.${database}.all_types`;
      log(`${variant.name}: connector ${connector.name}, topic ${topics[variant.name]}`);
    }
    // The snapshot of every connector is in Kafka before anything is streamed.
    for (const topic of Object.values(topics)) await waitForCount(admin, topic, SNAPSHOT_MESSAGES);
    log('snapshots captured; streaming changes');

    await stream(db, sql);
    for (const topic of Object.values(topics)) await waitForCount(admin, topic, ALL_MESSAGES);
    log('all changes captured; reading topics');

    const avroTopics = new Set(variants.filter((v) => v.format === 'avro').map((v) => topics[v.name] as string));
    const messages = await readTopics(Object.values(topics), avroTopics, groupId);
    for (const variant of variants) {
      const topic = topics[variant.name] as string;
      const mine = messages.filter((m) => m.topic === topic);
      const dir = join(FIXTURES, variant.name);
      mkdirSync(dir, { recursive: true });
      const lines = mine.map((m) =>
        JSON.stringify({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
        }),
      );
      writeFileSync(join(dir, 'all_types.jsonl'), lines.join('\n') + '\n');
      if (variant.format === 'avro') writeFileSync(join(dir, 'schemas.json'), await registrySchemas(mine));
      log(`${variant.name}: ${mine.length} messages -> ${join(dir, 'all_types.jsonl')}`);
    }
  } finally {
    for (const connector of connectors) await connector.remove().catch(() => undefined);
    // A stopping task can still write its schema history: delete topics once the tasks are gone.
    for (const connector of connectors) {
      await waitFor(`connector ${connector.name} removed`, async () => {
        const res = await fetch(`${stack.connectUrl}/connectors/${connector.name}/status`);
        return res.status === 404;
      }).catch((err: unknown) => console.error(err));
    }
    const prefixes = connectors.map((c) => c.prefix);
    const ours = async () =>
      (await admin.listTopics().catch(() => [] as string[])).filter((t) =>
        prefixes.some((p) => t.startsWith(`${p}.`) || t.endsWith(`.${p}`)),
      );
    for (let attempt = 0; attempt < 3; attempt++) {
      const topics = await ours();
      if (topics.length === 0) break;
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
    await db.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await db.end();
  }
}

/** The streamed history (see the header comment); each statement commits on its own. */
async function stream(db: Connection, sql: ReturnType<typeof rows>) {
  // A JSON column that Debezium learns from DDL in the binlog, not from the snapshot's
  // SHOW CREATE TABLE (where MariaDB reports JSON as LONGTEXT).
  await db.query(`ALTER TABLE all_types ADD COLUMN c_json_late JSON NULL`);
  const withLateJson = (row: SqlRow) => ({ ...row, c_json_late: row.c_json as string });
  await db.query(insert(11, withLateJson(sql.max)));
  await db.query(insert(12, withLateJson(sql.min)));
  await db.query(insert(13, withLateJson(sql.typical)));
  await db.query(insert(14, null));
  await db.query(`UPDATE all_types SET c_varchar = 'updated ✓', c_set = 'b', c_int = 7 WHERE id = 12`);
  await db.query(`UPDATE all_types SET id = 21 WHERE id = 11`);
  await db.query(`DELETE FROM all_types WHERE id = 14`);
  await db.query('BEGIN');
  await db.query(`UPDATE all_types SET c_int = 1 WHERE id = 1`);
  await db.query(`UPDATE all_types SET c_int = 2 WHERE id = 1`);
  await db.query(`INSERT INTO all_types (id, c_varchar) VALUES (30, 'tx-a'), (31, 'tx-b')`);
  await db.query(`DELETE FROM all_types WHERE id = 2`);
  await db.query('COMMIT');
}

type Admin = ReturnType<ReturnType<typeof kafka>['admin']>;

async function waitForCount(admin: Admin, topic: string, count: number) {
  await waitFor(
    `${count} messages in ${topic}`,
    async () => {
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
      if (total > count) throw new Error(`${topic} holds ${total} messages, expected ${count}`);
      return total === count;
    },
    120_000,
  );
}

/** Every message of the topics; Avro keys and values as base64, JSON ones as UTF-8 text. */
async function readTopics(topics: string[], avroTopics: Set<string>, groupId: string): Promise<Captured[]> {
  const admin = kafka().admin();
  await admin.connect();
  let expected = 0;
  for (const topic of topics)
    for (const o of await admin.fetchTopicOffsets(topic)) expected += Number(o.high) - Number(o.low);
  await admin.disconnect();

  const consumer = kafka().consumer({ groupId });
  const messages: Captured[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const avro = avroTopics.has(topic);
          const text = (b: Buffer | null) => (b === null ? null : b.toString(avro ? 'base64' : 'utf8'));
          messages.push({
            topic,
            partition,
            offset: message.offset,
            key: text(message.key),
            value: text(message.value),
          });
          if (messages.length === expected) resolve();
        },
      });
    });
    await Promise.race([
      done,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`read ${messages.length} of ${expected} messages`)), 120_000),
      ),
    ]);
  } finally {
    await consumer.disconnect();
  }
  return messages.sort(
    (a, b) =>
      a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}

/** Every schema id the Avro messages reference, as the Confluent-compatible API serves it. */
async function registrySchemas(messages: Captured[]): Promise<string> {
  const ids = new Set<number>();
  for (const m of messages)
    for (const b64 of [m.key, m.value]) {
      if (b64 === null) continue;
      const bytes = Buffer.from(b64, 'base64');
      if (bytes[0] !== 0 || bytes.length < 5) throw new Error(`not Confluent wire format: ${m.topic}@${m.offset}`);
      ids.add(bytes.readInt32BE(1));
    }
  const schemas: Record<string, string> = {};
  for (const id of [...ids].sort((a, b) => a - b)) {
    const res = await fetch(`${stack.registryUrl}/apis/ccompat/v7/schemas/ids/${id}`);
    if (!res.ok) throw new Error(`schema ${id}: HTTP ${res.status}`);
    schemas[String(id)] = ((await res.json()) as { schema: string }).schema;
  }
  return JSON.stringify(schemas, null, 2) + '\n';
}

const log = (message: string) => console.log(`capture-fixtures: ${message}`);

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
