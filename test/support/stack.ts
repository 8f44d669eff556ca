/** Endpoints of the local stack (scripts/stack.sh) and helpers for tests that use it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AttributeValue, DeleteTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import { notificationTopic } from '../../src/source/debezium/connector-config';
import { stopIdleRequestQueuePolling } from '../../src/source/kafka/kafkajs-request-queue';

// The tests' own kafkajs clients get the worker's fix for kafkajs's idle polling.
stopIdleRequestQueuePolling();

export const ROOT = join(__dirname, '..', '..');
const env = process.env;

export const stack = {
  kafkaBrokers: [`127.0.0.1:${env.FERRY_KAFKA_PORT ?? 9092}`],
  /** TLS with SASL (SCRAM-SHA-512 users ferry/ferry-secret and connect/connect-secret, or OAUTHBEARER). */
  kafkaSaslSslBrokers: [`127.0.0.1:${env.FERRY_KAFKA_SASL_SSL_PORT ?? 9094}`],
  /** TLS with a client certificate required. */
  kafkaMtlsBrokers: [`127.0.0.1:${env.FERRY_KAFKA_MTLS_PORT ?? 9095}`],
  stackDir: env.FERRY_STACK_DIR ?? join(__dirname, '..', '..', '.stack'),
  /** The local CA (ca.pem), and a client certificate it signed (client.pem, client.key). */
  get tlsDir() {
    return join(this.stackDir, 'tls');
  },
  connectUrl: `http://127.0.0.1:${env.FERRY_CONNECT_PORT ?? 8083}`,
  registryUrl: `http://127.0.0.1:${env.FERRY_REGISTRY_PORT ?? 8081}`,
  dynamoDbEndpoint: `http://127.0.0.1:${env.FERRY_DYNAMODB_PORT ?? 8000}`,
  mariadb: { host: '127.0.0.1', port: Number(env.FERRY_MARIADB_PORT ?? 3307), user: 'ferry', password: 'ferry' },
};

/** `ferry connector`'s options for the schema history as the stack's Connect reaches Kafka: TLS + SCRAM as connect. */
export const connectKafkaOptions = (password = 'connect-secret') => [
  ...['--kafka-bootstrap', stack.kafkaSaslSslBrokers.join(',')],
  ...['--kafka-security', 'scram-sha-512', '--kafka-ca', join(stack.tlsDir, 'ca.pem')],
  ...['--kafka-username', 'connect', '--kafka-password', password],
];

/** A short id that keeps tests' databases, topics, tables and groups apart. */
export const uniqueId = () => randomBytes(4).toString('hex');

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The first `count` messages on a topic, each with its partition. */
export async function readTopic(topic: string, count: number): Promise<Array<KafkaMessage & { partition: number }>> {
  const consumer = kafka().consumer({ groupId: `ferry-test-reader-${uniqueId()}` });
  const messages: Array<KafkaMessage & { partition: number }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message, partition }) => void messages.push({ ...message, partition }) });
  try {
    await waitFor(`${count} messages on ${topic}`, async () => messages.length >= count, 60_000);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

export function mariadb(database?: string) {
  return mysql.createConnection({
    ...stack.mariadb,
    database,
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
}

export const kafka = () =>
  new Kafka({ clientId: 'ferry-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });

export function dynamoDb() {
  const raw = new DynamoDBClient({
    endpoint: stack.dynamoDbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { raw, doc: DynamoDBDocumentClient.from(raw, { unmarshallOptions: { wrapNumbers: true } }) };
}

export async function scanAll(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: dynamoDb().doc }, { TableName: table, ConsistentRead: true }))
    items.push(...(page.Items ?? []));
  return items;
}

/** Items in a table, counted page by page (a Scan counts at most 1 MB at a time). */
export async function countItems(table: string): Promise<number> {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamoDb().raw.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

export async function dropTable(table: string): Promise<void> {
  await dynamoDb()
    .raw.send(new DeleteTableCommand({ TableName: table }))
    .catch(() => undefined);
}

/** Registers a Debezium connector for one test database, from debezium/mariadb-<format>.json. */
export async function registerConnector(options: {
  id: string;
  database: string;
  format?: 'json' | 'avro';
  overrides?: Record<string, string>;
}) {
  const format = options.format ?? 'json';
  const text = readFileSync(join(ROOT, 'debezium', `mariadb-${format}.json`), 'utf8').replace(
    /\$\{(\w+)(?::-([^}]*))?\}/g,
    (_m, k: string, d: string) => (k === 'FERRY_STACK_DIR' ? stack.stackDir : env[k]) ?? d,
  );
  const base = JSON.parse(text) as { config: Record<string, string> };
  const { name, prefix } = connectorNames(options.id);
  const config: Record<string, string> = {
    ...base.config,
    'topic.prefix': prefix,
    'database.include.list': options.database,
    'table.exclude.list': `${options.database}.debezium_signal`,
    'database.server.id': String(200_000 + (parseInt(options.id.slice(0, 6), 16) % 1_000_000)),
    'schema.history.internal.kafka.topic': `${prefix}.schema-history`,
    'signal.data.collection': `${options.database}.debezium_signal`,
    'notification.sink.topic.name': notificationTopic(prefix),
    ...options.overrides,
  };
  const res = await fetch(`${stack.connectUrl}/connectors/${name}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
  });
  if (!res.ok) throw new Error(`registering ${name}: HTTP ${res.status} ${await res.text()}`);
  await waitFor(`connector ${name} RUNNING`, async () => {
    const status = (await (await fetch(`${stack.connectUrl}/connectors/${name}/status`)).json()) as {
      connector: { state: string };
      tasks: Array<{ state: string; trace?: string }>;
    };
    const failed = status.tasks.find((t) => t.state === 'FAILED');
    if (failed) throw new Error(`connector ${name} failed: ${failed.trace?.slice(0, 2000)}`);
    return (
      status.connector.state === 'RUNNING' &&
      status.tasks.length > 0 &&
      status.tasks.every((t) => t.state === 'RUNNING')
    );
  });
  return {
    name,
    prefix,
    remove: () => removeConnector(name),
  };
}

/** A test connector's name and topic prefix, from its scenario's id. */
export const connectorNames = (id: string) => ({ name: `ferry-test-${id}`, prefix: `t${id}` });

export const removeConnector = (name: string) =>
  fetch(`${stack.connectUrl}/connectors/${name}`, { method: 'DELETE' }).then(() => undefined);

export interface RunningWorker {
  process: ChildProcess;
  httpPort: number;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

let nextHttpPort = 19_400 + (process.pid % 500);

/** Runs `ferry run` as its own process, the way it is deployed, and waits until it is ready. */
export async function startWorker(settings: Record<string, string>): Promise<RunningWorker> {
  const httpPort = nextHttpPort++;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), 'run'], {
    cwd: ROOT,
    env: {
      PATH: env.PATH,
      HOME: env.HOME,
      FERRY_KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      FERRY_DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
      FERRY_DYNAMODB_CREATE_TABLES: 'true',
      FERRY_HTTP_PORT: String(httpPort),
      FERRY_LOG_LEVEL: 'info',
      FERRY_KAFKA_SESSION_TIMEOUT_MS: '6000',
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  await waitFor(
    `worker ready on :${httpPort}`,
    async () => {
      if (done) throw new Error(`worker exited early:\n${output.slice(-3000)}`);
      return (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok;
    },
    90_000,
  ).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n--- worker output ---\n${output.slice(-3000)}`);
  });
  return {
    process: child,
    httpPort,
    output: () => output,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}

/** Change events the worker has counted, by outcome ("written", "dead-lettered", ...), from /metrics. */
export async function countedEvents(httpPort: number): Promise<Record<string, number>> {
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const counted: Record<string, number> = {};
  for (const [, outcome, value] of metrics.matchAll(/^ferry_events_total\{[^}]*outcome="([^"]+)"[^}]*\} (\S+)$/gm))
    counted[outcome as string] = (counted[outcome as string] ?? 0) + Number(value);
  return counted;
}

/** The longest any partition of the worker has been blocked, from /metrics. */
export async function maxBlockedSeconds(httpPort: number): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return Math.max(
    0,
    ...[...metrics.matchAll(/^ferry_partition_blocked_seconds\{[^}]*\} (\S+)$/gm)].map((m) => Number(m[1])),
  );
}
