/**
 * verify at scale: N rows in a MariaDB table, their items in DynamoDB Local, then `ferry verify`
 * run as an operator runs it (the CLI, in a child process) for a full run and for `--sample 1`:
 * seconds, rows/s and the child's peak RSS.
 *
 *   npm run bench:verify -- --rows 1000000 [--runs full,heap,sample] [--heap-mb 64] [--segments <n>]
 *     [--baseline <checkout> [--baseline-runs full,heap,sample]] [--endpoint <url>] [--keep]
 *
 * The items are written straight to DynamoDB (BatchWriteItem of the mapped rows, as the writer
 * prepares them), not through Debezium and Kafka: that loads a million rows in minutes, and it is
 * verify that is measured. A few items are then deleted, changed and added, so each run must
 * find exactly that divergence. The `heap` run caps V8's old space (`--max-old-space-size`): what
 * verify holds must fit whatever the table's size. `--baseline <dir>` runs the same commands
 * from another checkout (e.g. a `git worktree` of an older commit) for comparison.
 *
 * Needs the local stack's MariaDB. DynamoDB is a DynamoDB Local of the bench's own, on disk,
 * from the stack's jars: the stack's in-memory one (384 MB of heap, shared by every test) runs
 * out of memory long before a million items. `--endpoint` uses another DynamoDB instead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import mysql from 'mysql2/promise';
import { loadConfig } from '../../src/config/config';
import { mapConcurrent } from '../../src/core/concurrency';
import { formatVersion } from '../../src/core/version';
import { VERSION_ATTRIBUTE } from '../../src/core/version';
import { prepareMappedItem } from '../../src/mapping/apply-mapping';
import { loadMapping } from '../../src/mapping/load-mapping';
import { createDynamoDbClient } from '../../src/sink/dynamodb/client';
import { ensureTable } from '../../src/sink/dynamodb/table-admin';
import { connectSource, describeTable, readTable } from '../../src/verify/source-reader';
import { uniqueId } from './workload';

const ROOT = join(__dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    /** Scan segments for ferry's runs (default: verify's own choice). */
    segments: { type: 'string' },
    /** Which runs: a full verify, a full verify with the heap capped at --heap-mb, --sample 1. */
    runs: { type: 'string', default: 'full,heap,sample' },
    'baseline-runs': { type: 'string' },
    'heap-mb': { type: 'string', default: '64' },
    baseline: { type: 'string' },
    /** A DynamoDB to use instead of starting one. */
    endpoint: { type: 'string' },
    'dynamodb-port': { type: 'string', default: '8010' },
    /** Where the bench's DynamoDB Local keeps its tables: tmpfs when there is one, so loading is not bound by fsync. */
    'dynamodb-dir': { type: 'string', default: existsSync('/dev/shm') ? '/dev/shm' : tmpdir() },
    /** Keep the database and table afterwards (to rerun verify by hand). */
    keep: { type: 'boolean', default: false },
  },
});
const ROWS = Number(flags.rows);
const id = uniqueId();
const database = `ferry_test_vbench_${id}`;
const table = `ferry-vbench-${id}`;
const dir = mkdtempSync(join(tmpdir(), 'ferry-vbench-'));
const mappingPath = join(dir, 'items.ts');
const log = (message: string) =>
  process.stderr.write(`[bench:verify ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

writeFileSync(
  mappingPath,
  `import { defineMapping } from 'ferry';
export default defineMapping<any>({
  name: 'vbench-${id}',
  source: { table: '${database}.items' },
  target: { table: '${table}', partitionKey: 'pk', sortKey: 'sk' },
  key: (row) => ({ pk: 'I#' + row.id, sk: 'ITEM' }),
  item: (row) => ({
    email: row.email, tier: row.tier, balance: row.balance, visits: row.visits,
    note: row.note ?? undefined, updatedAt: row.updated_at,
  }),
});
`,
);
const endpoint = flags.endpoint ?? `http://127.0.0.1:${flags['dynamodb-port']}`;
const config = loadConfig({ overrides: { mapping: mappingPath, dynamodb: { endpoint } } });
const dynamo = createDynamoDbClient(config.dynamodb);
let dynamoDbLocal: ChildProcess | undefined;
const cleanups: Array<() => void> = [];

/** A DynamoDB Local of the bench's own, its tables on disk in the bench's directory. */
async function startDynamoDbLocal(): Promise<void> {
  const jars = join(ROOT, '.stack', 'cache', 'dynamodb');
  const data = mkdtempSync(join(flags['dynamodb-dir'], 'ferry-vbench-dynamodb-'));
  cleanups.push(() => rmSync(data, { recursive: true, force: true }));
  let output = '';
  dynamoDbLocal = spawn(
    'java',
    [
      '-Xmx1g',
      '-XX:+UseSerialGC',
      '-XX:+ExitOnOutOfMemoryError',
      `-Djava.library.path=${join(jars, 'native')}`,
      '-cp',
      `${join(jars, 'classes')}:${join(jars, 'lib', '*')}`,
      'DynamoDbLocalLoopback',
      '-sharedDb',
      '-dbPath',
      data,
      '-port',
      flags['dynamodb-port'],
      '-disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  process.once('SIGINT', () => {
    dynamoDbLocal?.kill();
    process.exit(130);
  });
  dynamoDbLocal.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  dynamoDbLocal.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('listening')) {
    if (dynamoDbLocal.exitCode !== null || Date.now() > deadline)
      throw new Error(`DynamoDB Local did not start on port ${flags['dynamodb-port']}: ${output.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`DynamoDB Local of the bench's own at ${endpoint} (pid ${dynamoDbLocal.pid}, tables in ${data})`);
}

/** CPU seconds DynamoDB Local has used so far. */
function dynamoDbCpu(): number {
  try {
    const pid = dynamoDbLocal?.pid ?? readFileSync(join(ROOT, '.stack', 'dynamodb', 'dynamodb.pid'), 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function loadSource(db: mysql.Connection) {
  await db.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4`);
  await db.query(`CREATE TABLE ${database}.items (id INT PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE,
    tier ENUM('free','pro','team') NOT NULL, balance DECIMAL(14,2) NOT NULL, visits BIGINT NOT NULL,
    note VARCHAR(60) NULL, updated_at DATETIME(6) NOT NULL)`);
  for (let from = 1; from <= ROWS; from += 100_000) {
    const to = Math.min(ROWS, from + 99_999);
    await db.query(`INSERT INTO ${database}.items SELECT seq, CONCAT('user', seq, '@example.com'), ELT(1 + seq % 3, 'free', 'pro', 'team'),
      (seq * 7919 % 1000000) / 100, seq * 1000003, IF(seq % 5 = 0, NULL, CONCAT('note ', seq)),
      TIMESTAMPADD(MICROSECOND, seq * 1000, '2024-01-01') FROM ${database}.seq_${from}_to_${to}`);
  }
}

/** The mapped rows, written as the writer prepares them, 25 to a request. */
async function loadDynamoDb(source: mysql.Connection) {
  const mapping = await loadMapping(mappingPath);
  await ensureTable(dynamo, { table, partitionKey: mapping.partitionKey, sortKey: mapping.sortKey });
  const shape = await describeTable(source, mapping.sourceTable);
  const version = { S: formatVersion(1, 4, 0, 0, Date.now()) };
  let written = 0;
  let nextLog = 100_000;
  for await (const page of readTable(source, shape, { batchSize: 5000 })) {
    const requests: WriteRequest[] = page.flatMap(({ row }) =>
      mapping.itemsOf(row).map(({ key, item }) => ({
        PutRequest: {
          Item: { ...prepareMappedItem(mapping, key, item, config.pipeline).attributes, [VERSION_ATTRIBUTE]: version },
        },
      })),
    );
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
    await mapConcurrent(chunks, 8, async (chunk) => {
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt)));
        const out = await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    });
    written += requests.length;
    if (written >= nextLog) {
      log(`${fmt(written)} items written`);
      nextLog += 100_000;
    }
  }
  return written;
}

/** Divergence each run must find: 3 missing, 4 extra, 2 different. */
async function injectDivergence() {
  const key = (n: number) => ({ pk: { S: `I#${n}` }, sk: { S: 'ITEM' } });
  for (const n of [1, Math.ceil(ROWS / 2), ROWS])
    await dynamo.send(new DeleteItemCommand({ TableName: table, Key: key(n) }));
  for (const n of [ROWS + 1, ROWS + 2, ROWS + 3, -1])
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { ...key(n), tier: { S: 'free' } } }));
  for (const n of [2, Math.ceil(ROWS / 3)])
    await dynamo.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key(n),
        UpdateExpression: 'SET visits = :v',
        ExpressionAttributeValues: { ':v': { N: '-1' } },
      }),
    );
  return { missing: 3, extra: 4, different: 2 };
}

interface Run {
  label: string;
  seconds: number;
  maxRssMb: number;
  dynamoDbCpu: number;
  report?: Record<string, unknown> & { sourceRows: number; missing: number; extra: number; different: number };
  /** Why verify failed, e.g. out of memory under a capped heap. */
  failed?: string;
}

/** `ferry verify` in a child process from `checkout`, timed, with its peak RSS from /usr/bin/time. */
async function verify(label: string, checkout: string, nodeArgs: string[], args: string[]): Promise<Run> {
  const timeFile = join(dir, `time-${label.replace(/\W+/g, '-')}`);
  const cpuBefore = dynamoDbCpu();
  const started = process.hrtime.bigint();
  const { code, out, err } = await new Promise<{ code: number; out: string; err: string }>((done, fail) => {
    const child = spawn(
      '/usr/bin/time',
      [
        '-f',
        '%M',
        '-o',
        timeFile,
        process.execPath,
        ...nodeArgs,
        '--import',
        'tsx',
        join(checkout, 'src/cli/bin.ts'),
        'verify',
        '--mapping',
        mappingPath,
        '--json',
        '--max-divergence',
        '1',
        ...args,
      ],
      {
        cwd: checkout,
        env: {
          ...process.env,
          FERRY_SOURCE_URL: config.source.url,
          FERRY_DYNAMODB_ENDPOINT: endpoint,
          FERRY_LOG_LEVEL: 'error',
        },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ code: status ?? 1, out, err }));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const maxRssKb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
  const run = { label, seconds, maxRssMb: maxRssKb / 1024, dynamoDbCpu: dynamoDbCpu() - cpuBefore };
  if (code === 0) return { ...run, report: JSON.parse(out) as Run['report'] };
  const oom = /heap out of memory|Allocation failed/.test(err);
  return { ...run, failed: oom ? 'out of memory' : `exit ${code}: ${err.trim().split('\n').slice(-3).join(' ')}` };
}

async function main() {
  const admin = await mysql.createConnection({ uri: config.source.url, multipleStatements: true });
  let source: mysql.Connection | undefined;
  const runs: Run[] = [];
  try {
    if (!flags.endpoint) await startDynamoDbLocal();
    let t = Date.now();
    log(`${fmt(ROWS)} rows into ${database}.items`);
    await loadSource(admin);
    log(`source loaded in ${fmt((Date.now() - t) / 1000, 1)} s`);
    t = Date.now();
    source = await connectSource(config.source.url);
    log(`items into ${table}, straight to DynamoDB Local (BatchWriteItem, not through Kafka)`);
    const items = await loadDynamoDb(source);
    log(`${fmt(items)} items loaded in ${fmt((Date.now() - t) / 1000, 1)} s`);
    const expected = await injectDivergence();

    const heap = `heap ${flags['heap-mb']} MB`;
    const kinds = {
      full: { what: 'full', nodeArgs: [] as string[], args: [] as string[] },
      heap: { what: `full, ${heap}`, nodeArgs: [`--max-old-space-size=${flags['heap-mb']}`], args: [] },
      sample: { what: '--sample 1', nodeArgs: [], args: ['--sample', '1'] },
    };
    const checkouts: Array<[string, string, string]> = [['ferry', ROOT, flags.runs]];
    if (flags.baseline) checkouts.push(['baseline', resolve(flags.baseline), flags['baseline-runs'] ?? flags.runs]);
    for (const [name, checkout, which] of checkouts) {
      for (const kind of which.split(',') as Array<keyof typeof kinds>) {
        const { what, nodeArgs, args } = kinds[kind];
        const label = `${name} ${what}`;
        const segments = name === 'ferry' && kind !== 'sample' && flags.segments ? ['--segments', flags.segments] : [];
        log(`${label}: running`);
        const run = await verify(label, checkout, nodeArgs, [...args, ...segments]);
        runs.push(run);
        if (!run.report) {
          log(`${label}: FAILED after ${fmt(run.seconds, 1)} s (${run.failed}), peak RSS ${fmt(run.maxRssMb)} MB`);
          continue;
        }
        const { sourceRows, missing, extra, different } = run.report;
        const found = JSON.stringify({ missing, extra, different });
        const check =
          kind === 'sample'
            ? `${missing} missing, ${different} different in the sample`
            : found === JSON.stringify(expected)
              ? 'found exactly the injected divergence'
              : `WRONG: found ${found}, injected ${JSON.stringify(expected)}`;
        log(
          `${label}: ${fmt(sourceRows)} rows checked in ${fmt(run.seconds, 1)} s, peak RSS ${fmt(run.maxRssMb)} MB; ${check}`,
        );
      }
    }
  } finally {
    await source?.end();
    if (!flags.keep) {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    } else log(`kept ${database}, ${table} and ${mappingPath}`);
    await admin.end();
    dynamoDbLocal?.kill();
    await new Promise((r) => setTimeout(r, 1000));
    if (!flags.keep) {
      rmSync(dir, { recursive: true, force: true });
      for (const cleanup of cleanups) cleanup();
    }
  }

  process.stdout.write(
    `\nferry verify on ${fmt(ROWS)} rows (MariaDB and ${flags.endpoint ? `DynamoDB at ${endpoint}` : `a DynamoDB Local with its tables in ${flags['dynamodb-dir']}`} on this machine; items loaded by BatchWriteItem, not through Kafka)\n\n`,
  );
  const header = [
    'run',
    'rows checked',
    'seconds',
    'table rows/s',
    'rows checked/s',
    'peak RSS MB',
    'DynamoDB Local CPU-s',
  ];
  const lines = runs.map((r) => [
    r.label,
    r.report ? fmt(r.report.sourceRows) : `failed: ${r.failed}`,
    fmt(r.seconds, 1),
    r.report ? fmt(ROWS / r.seconds) : '',
    r.report ? fmt(r.report.sourceRows / r.seconds) : '',
    fmt(r.maxRssMb),
    fmt(r.dynamoDbCpu, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  for (const line of [header, widths.map((w) => '-'.repeat(w)), ...lines])
    process.stdout.write(`| ${line.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:verify failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
