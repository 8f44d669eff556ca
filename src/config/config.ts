import { readFileSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { ConfigError } from '../core/errors';

const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const list = () =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(z.string().min(1)).min(1),
  );
const count = () => z.coerce.number().int().positive();

export const kafkaSchema = z.strictObject({
  brokers: list().default(['127.0.0.1:9092']).describe('Bootstrap brokers, host:port, comma-separated in env'),
  clientId: z.string().min(1).default('ferry').describe('Kafka client id'),
  topicPrefix: z.string().min(1).default('ferry').describe("Debezium's topic.prefix: topics are <prefix>.<db>.<table>"),
  groupId: z.string().min(1).optional().describe('Consumer group; default ferry.<mapping name>'),
  fromBeginning: bool().default(true).describe('Where a group without committed offsets starts'),
  ssl: bool().default(false).describe('Connect with TLS (on by itself when sslCa or sslCert is set)'),
  sslCa: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of the CA that signed the brokers' certificates; default: Node's trusted CAs"),
  sslCert: z.string().min(1).optional().describe('PEM file of a client certificate (mTLS), with sslKey'),
  sslKey: z.string().min(1).optional().describe("PEM file of the client certificate's private key (mTLS)"),
  sasl: z
    .discriminatedUnion('mechanism', [
      z.strictObject({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      }),
      z.strictObject({
        mechanism: z.literal('aws-msk-iam'),
        region: z
          .string()
          .min(1)
          .optional()
          .describe("The MSK cluster's region, for the token's signature; default: the DynamoDB region"),
      }),
    ])
    .optional()
    .describe('SASL authentication'),
  connectionTimeoutMs: count().default(10_000),
  sessionTimeoutMs: count().default(30_000).describe('Consumer session timeout'),
});

export const dynamoDbSchema = z.strictObject({
  region: z.string().min(1).default('us-east-1').describe('AWS region (credentials: the default chain)'),
  endpoint: z.url().optional().describe('Endpoint override, e.g. DynamoDB Local'),
  fips: bool().default(false).describe("Use the region's FIPS endpoint (dynamodb-fips.<region>.amazonaws.com)"),
  createTables: bool().default(false).describe('Create a missing target table (on-demand); for local use'),
  writeConcurrency: count().default(32).describe('Conditional writes in flight per partition'),
  deletesTable: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name')
    .default('ferry-deletes')
    .describe('Where ferry remembers deletes, so that an older change cannot bring a deleted item back'),
  rememberDeletesDays: count()
    .default(30)
    .describe('How long a delete is remembered (DynamoDB TTL); redrive refuses dead letters older than this'),
  requestTimeoutMs: count()
    .default(10_000)
    .describe(
      'A request to DynamoDB with no answer by then fails (and is retried): a half-open connection cannot stall',
    ),
});

export const configSchema = z.strictObject({
  mapping: z.string().min(1).optional().describe('The mapping: a module path (.ts or .js) or a name in mappingsDir'),
  format: z
    .enum(['json', 'avro'])
    .default('json')
    .describe('Debezium converter: JSON with or without schemas, or Avro'),
  schemaRegistry: z
    .strictObject({
      url: z
        .url()
        .refine((u) => !new URL(u).username && !new URL(u).password, {
          message:
            'carries credentials: give them as schemaRegistry.username and password (FERRY_SCHEMA_REGISTRY_USERNAME, _PASSWORD)',
        })
        .default('http://127.0.0.1:8081/apis/ccompat/v7'),
      username: z.string().min(1).optional().describe('Basic-auth user for the registry, with password'),
      password: z.string().min(1).optional().describe('Basic-auth password for the registry, with username'),
      ca: z
        .string()
        .min(1)
        .optional()
        .describe("PEM file of the CA that signed the registry's certificate; default: Node's trusted CAs"),
    })
    .default({ url: 'http://127.0.0.1:8081/apis/ccompat/v7' })
    .describe('Confluent-compatible schema registry, for Avro'),
  connect: z
    .strictObject({ url: z.url().default('http://127.0.0.1:8083') })
    .default({ url: 'http://127.0.0.1:8083' })
    .describe('Kafka Connect REST API running the Debezium connector, for ferry topic repartition'),
  kafka: kafkaSchema.default(kafkaSchema.parse({})),
  dynamodb: dynamoDbSchema.default(dynamoDbSchema.parse({})),
  pipeline: z
    .strictObject({
      partitionsConsumedConcurrently: count().default(4),
      maxChunk: count().default(2000).describe('Messages per pipeline pass; offsets commit after each'),
      numberOverflow: z
        .enum(['error', 'string'])
        .default('error')
        .describe('A number DynamoDB cannot hold (over 38 digits, out of range): dead letter, or store as text'),
    })
    .default({ partitionsConsumedConcurrently: 4, maxChunk: 2000, numberOverflow: 'error' }),
  dlq: z
    .strictObject({
      retentionHours: count()
        .default(336)
        .describe('How long dead letters are kept: retention.ms of a dead-letter topic ferry creates (14 days)'),
    })
    .default({ retentionHours: 336 }),
  appliedLog: z
    .strictObject({
      enabled: bool()
        .default(false)
        .describe('Record every change applied to the table in <prefix>.applied.<mapping>: a change feed'),
      retentionHours: count()
        .default(168)
        .describe('How long the applied-changes log keeps records: retention.ms of the topic ferry creates (7 days)'),
    })
    .default({ enabled: false, retentionHours: 168 }),
  retry: z
    .strictObject({
      maxAttempts: count()
        .optional()
        .describe(
          "Attempts after which a write failing with a retriable error is dead-lettered (overrides the mapping's)",
        ),
      maxDurationMs: count()
        .optional()
        .describe("Time after which a write failing with a retriable error is dead-lettered (overrides the mapping's)"),
    })
    .default({}),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1').describe('Bind address of /metrics, /healthz, /readyz'),
      port: z.coerce.number().int().min(0).max(65535).default(9464),
    })
    .default({ host: '127.0.0.1', port: 9464 }),
  source: z
    .strictObject({
      url: z
        .string()
        .default('mysql://ferry:ferry@127.0.0.1:3307')
        .describe('MySQL/MariaDB to read for verify, snapshot signals and mapping scaffolds'),
      signalTable: z
        .string()
        .default('debezium_signal')
        .describe("Debezium's signalling table, in the mapped table's database"),
    })
    .default({ url: 'mysql://ferry:ferry@127.0.0.1:3307', signalTable: 'debezium_signal' }),
  mappingsDir: z.string().default('mappings').describe('Where --mapping <name> finds <name>.ts or <name>.js'),
  console: z
    .strictObject({
      token: z.string().min(1).optional().describe('Bearer token `ferry console` requires (or ?token= once)'),
      user: z.string().min(1).optional().describe('Basic-auth user `ferry console` requires, with password'),
      password: z.string().min(1).optional().describe('Basic-auth password `ferry console` requires, with user'),
    })
    .default({}),
  shutdownTimeoutMs: count()
    .default(30_000)
    .describe('How long a SIGTERM may take to finish, commit and leave the group'),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .default({ level: 'info' }),
});

export type Config = z.infer<typeof configSchema>;
export type KafkaSettings = Config['kafka'];
export type DynamoDbConfig = Config['dynamodb'];

/** Settings that environment variables may set: FERRY_ + the path in SCREAMING_SNAKE_CASE. */
export const ENV_PATHS = [
  'mapping',
  'format',
  'schemaRegistry.url',
  'schemaRegistry.username',
  'schemaRegistry.password',
  'schemaRegistry.ca',
  'connect.url',
  'kafka.brokers',
  'kafka.clientId',
  'kafka.topicPrefix',
  'kafka.groupId',
  'kafka.fromBeginning',
  'kafka.ssl',
  'kafka.sslCa',
  'kafka.sslCert',
  'kafka.sslKey',
  'kafka.sasl.mechanism',
  'kafka.sasl.username',
  'kafka.sasl.password',
  'kafka.sasl.region',
  'kafka.sessionTimeoutMs',
  'dynamodb.region',
  'dynamodb.endpoint',
  'dynamodb.fips',
  'dynamodb.createTables',
  'dynamodb.writeConcurrency',
  'dynamodb.deletesTable',
  'dynamodb.rememberDeletesDays',
  'dynamodb.requestTimeoutMs',
  'pipeline.partitionsConsumedConcurrently',
  'pipeline.maxChunk',
  'pipeline.numberOverflow',
  'dlq.retentionHours',
  'appliedLog.enabled',
  'appliedLog.retentionHours',
  'retry.maxAttempts',
  'retry.maxDurationMs',
  'http.host',
  'http.port',
  'log.level',
  'shutdownTimeoutMs',
  'source.url',
  'source.signalTable',
  'mappingsDir',
  'console.token',
  'console.user',
  'console.password',
] as const;

export const envName = (path: string) =>
  `FERRY_${path
    .replace(/\./g, '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()}`;

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Tree;
  node[parts.at(-1) as string] = value;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Tree, v as Tree)
        : v;
  }
  return out;
}

export interface ConfigSources {
  /** A JSON config file; FERRY_CONFIG names one when this does not. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags: they win over the file and the environment. */
  overrides?: Tree;
  /** Told of each FERRY_ variable that is not a setting (a misspelt one would otherwise change nothing, silently); stderr by default. */
  warn?: (message: string) => void;
}

/** `name`, followed by the nearest of `known` when it is near enough to be what was meant. */
function withGuess(name: string, known: readonly string[]): string {
  const guess = known.length > 0 ? closest(name, known as string[]) : undefined;
  return guess !== undefined && distance(name, guess) <= Math.max(2, Math.floor(guess.length / 4))
    ? `${name} (did you mean ${guess}?)`
    : name;
}

/** The setting objects `schema` may be: itself, or each option of a union (kafka.sasl). */
function objectsOf(schema: z.ZodType | undefined): z.ZodObject[] {
  while (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  if (schema instanceof z.ZodObject) return [schema];
  return schema instanceof z.ZodUnion ? (schema.options as z.ZodType[]).flatMap(objectsOf) : [];
}

/** The keys a setting object takes at `path` in the schema (none when `path` is not one). */
function keysAt(path: PropertyKey[]): string[] {
  let objects = objectsOf(configSchema);
  for (const part of path) objects = objects.flatMap((o) => objectsOf(o.shape[String(part)] as z.ZodType | undefined));
  return [...new Set(objects.flatMap((o) => Object.keys(o.shape)))];
}

/** FERRY_ variables in `env` that name no setting, each with the setting it most likely meant. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = [...ENV_PATHS.map(envName), 'FERRY_CONFIG'];
  return Object.keys(env)
    .filter((name) => name.startsWith('FERRY_') && !known.includes(name))
    .sort()
    .map((name) => withGuess(name, known));
}

/** Defaults < file < environment < flags; errors name the field, where it came from and what was expected. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.FERRY_CONFIG;
  let tree: Tree = {};
  if (file) {
    try {
      tree = JSON.parse(readFileSync(file, 'utf8')) as Tree;
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
  }
  const fromEnv: Tree = {};
  for (const path of ENV_PATHS) {
    const value = env[envName(path)];
    if (value !== undefined && value !== '') setPath(fromEnv, path, value);
  }
  if (env.AWS_REGION && !env[envName('dynamodb.region')]) setPath(fromEnv, 'dynamodb.region', env.AWS_REGION);
  tree = merge(merge(tree, fromEnv), sources.overrides ?? {});
  const unknown = unknownVariables(env);
  if (unknown.length > 0)
    (sources.warn ?? ((m: string) => process.stderr.write(`ferry: ${m}\n`)))(
      `ignoring ${unknown.join(', ')}: not a setting ferry reads`,
    );
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.join('.');
      // Only a file or a flag can hold a key that is not a setting: a misspelt one is refused, not ignored.
      if (issue.code === 'unrecognized_keys') {
        const known = keysAt(issue.path);
        return `${path || '(root)'}: not a setting: ${issue.keys.map((k) => withGuess(k, known)).join(', ')}`;
      }
      const where = ENV_PATHS.includes(path as (typeof ENV_PATHS)[number]) ? ` (${envName(path)})` : '';
      return `${path || '(root)'}${where}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const { sasl } = parsed.data.kafka;
  // MSK and DynamoDB are most often in one region: the token is signed for the DynamoDB region by default.
  if (sasl?.mechanism === 'aws-msk-iam') sasl.region ??= parsed.data.dynamodb.region;
  return parsed.data;
}
