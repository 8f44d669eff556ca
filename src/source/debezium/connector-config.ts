import type { Mapping } from '../../mapping/define-mapping';
import { ConfigError } from '../../core/errors';
import { type RowKey, rowKey } from '../mysql/row-key';
import { type TableShape, qualifiedName } from '../mysql/table-shape';

/** What a connector config is made of; every value is printed as given, so `${...}` placeholders pass through. */
export interface ConnectorSettings {
  source: 'mysql' | 'mariadb';
  format: 'json' | 'avro';
  name: string;
  database: string;
  /** True when the tables were named: the connector captures only them (else every table but the signalling table and leftOut). */
  namedTables: boolean;
  /** Tables left out besides the signalling table when none were named: those Debezium cannot capture. */
  leftOut: readonly string[];
  /** Columns named per table (`db.table`), for tables without a key of their own. */
  keys: ReadonlyMap<string, readonly string[]>;
  /** The database as Kafka Connect reaches it. */
  hostname: string;
  port: string;
  user: string;
  password: string;
  serverId: string;
  sslMode?: string;
  topicPrefix: string;
  partitions: string;
  replicationFactor: string;
  /** Kafka as Connect reaches it, for the schema history topic. */
  kafkaBootstrap: string;
  /** How the schema history's clients log in there. */
  kafkaSecurity: ConnectKafkaSecurity;
  /** Apicurio's registry API as Connect reaches it (avro only). */
  registryUrl: string;
  /** How the converters log in there (avro only). */
  registryLogin?: ConnectRegistryLogin;
  signalTable: string;
}

/** Basic auth and trust for Apicurio's registry client in Connect; secrets printed as given, like the others. */
export interface ConnectRegistryLogin {
  username?: string;
  password?: string;
  /** A PKCS#12 trust store of the registry's CA on Connect's host (the client reads no PEM); none: the JVM's. */
  truststore?: string;
  truststorePassword?: string;
}

/** Apicurio converter properties (without the `key.converter.`/`value.converter.` prefix) for a login. */
export function registryClientSecurity(login: ConnectRegistryLogin = {}): Record<string, string> {
  const { username, password, truststore, truststorePassword } = login;
  return {
    ...(username && password ? { 'apicurio.auth.username': username, 'apicurio.auth.password': password } : {}),
    ...(truststore && truststorePassword
      ? {
          'apicurio.registry.request.ssl.truststore.location': truststore,
          'apicurio.registry.request.ssl.truststore.type': 'PKCS12',
          'apicurio.registry.request.ssl.truststore.password': truststorePassword,
        }
      : {}),
  };
}

export const CONNECT_KAFKA_SECURITY = [
  'plaintext',
  'tls',
  'mtls',
  'scram-sha-256',
  'scram-sha-512',
  'aws-msk-iam',
] as const;

/**
 * How a Kafka client inside Kafka Connect reaches the brokers. Files are PEM, as Connect's host
 * sees them; secrets are printed as given, so `${...}` config provider placeholders pass through.
 */
export interface ConnectKafkaSecurity {
  kind: (typeof CONNECT_KAFKA_SECURITY)[number];
  /** The CA that signed the brokers' certificates; none: the JVM's trusted CAs. */
  ca?: string;
  /** mtls: the client's private key and certificate chain, in one PEM file. */
  keystore?: string;
  username?: string;
  password?: string;
}

/** Kafka client properties (security.protocol, ssl.*, sasl.*) for a way of reaching the brokers. */
export function kafkaClientSecurity(security: ConnectKafkaSecurity): Record<string, string> {
  const { kind, ca, keystore, username, password } = security;
  if (kind === 'plaintext') return {};
  const trust: Record<string, string> = ca ? { 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': ca } : {};
  if (kind === 'tls' || kind === 'mtls') {
    if (kind === 'mtls' && !keystore)
      throw new ConfigError('--kafka-security mtls needs --kafka-keystore: a PEM file of the key and its certificate');
    return {
      'security.protocol': 'SSL',
      ...trust,
      ...(keystore ? { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': keystore } : {}),
    };
  }
  if (kind === 'aws-msk-iam')
    return {
      'security.protocol': 'SASL_SSL',
      ...trust,
      'sasl.mechanism': 'AWS_MSK_IAM',
      'sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
      'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
    };
  if (!username) throw new ConfigError(`--kafka-security ${kind} needs --kafka-username: the user Connect logs in as`);
  if (!password) throw new ConfigError(`--kafka-security ${kind} needs --kafka-password`);
  for (const [option, value] of Object.entries({ '--kafka-username': username, '--kafka-password': password }))
    if (/["\\]/.test(value)) throw new ConfigError(`${option} cannot hold " or \\ (JAAS quotes it)`);
  return {
    'security.protocol': 'SASL_SSL',
    ...trust,
    'sasl.mechanism': kind.toUpperCase(),
    'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${username}" password="${password}";`,
  };
}

export interface ConnectorConfig {
  name: string;
  config: Record<string, string>;
}

export interface KeyedTable {
  table: string;
  key: RowKey;
}

const CONNECTOR_CLASS = {
  mysql: 'io.debezium.connector.mysql.MySqlConnector',
  mariadb: 'io.debezium.connector.mariadb.MariaDbConnector',
} as const;

/** The change topics' compaction settings: 7 days each (README: "How long can I go back?"). */
export const HISTORY_SETTINGS = { minCompactionLagMs: 604_800_000, deleteRetentionMs: 604_800_000 } as const;

/**
 * The largest change event Connect sends and a change topic takes, as ferry's own topics: an
 * update carries the row twice (before and after), and one event over Kafka's 1 MB default
 * stopped the connector, and so the capture of every table of the database.
 */
export const CHANGE_EVENT_MAX_BYTES = 8 * 1024 * 1024;

/** Where Debezium writes its notifications (snapshot progress) for a topic prefix. */
export const notificationTopic = (topicPrefix: string) => `${topicPrefix}.notifications`;

/**
 * The columns Avro cannot name, as Debezium matches `<db>.<table>.<column>`: a character other
 * than [A-Za-z0-9_] or a leading digit (a dot in any name matches too, which costs only a
 * parameter). Their source types are propagated for the column's own name that comes with them
 * (see logical-types' columnName), seen on the local stack: `order-ref` arrives as `order_ref`.
 */
export const AVRO_RENAMED_COLUMNS = '.+\\.(?:[^.]*[^A-Za-z0-9_.][^.]*|[0-9][^.]*)|.+\\..+\\..+\\..+';

/** Debezium's regexes of `<db>.<table>.<type>`, each matched whole. */
export const PROPAGATED_SOURCE_TYPES = ['BIGINT UNSIGNED', 'BOOLEAN', 'BOOL', 'FLOAT', 'FLOAT UNSIGNED']
  .map((t) => `.+\\.${t}`)
  .join(',');

/** Where the connector writes its heartbeats (Debezium's default topic.heartbeat.prefix, which ferry connector keeps). */
export const heartbeatTopic = (topicPrefix: string) => `__debezium-heartbeat.${topicPrefix}`;

/**
 * Where Debezium puts a table's changes: `<prefix>.<db>.<table>`, each UTF-16 unit a topic name
 * cannot hold made "_" and at most 249 characters, as Debezium's topic naming does ("order items"
 * -> order_items, "Prix€" -> Prix_). Two tables can so share a topic; a worker skips the other's rows.
 */
export const topicFor = (topicPrefix: string, mapping: Pick<Mapping, 'sourceTable'>) =>
  `${topicPrefix}.${mapping.sourceTable}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 249);

const PLACEHOLDER = /^\$\{[^}]+\}$/;

/**
 * Debezium reads table lists and message.key.columns as regular expressions: a name is matched
 * literally once its special characters are escaped (a comma is escaped for the list splitter).
 */
const literal = (name: string) => name.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&').replace(/,/g, '\\,');

/** message.key.columns splits on these before reading any escape: a name holding one cannot be written there. */
const UNWRITABLE_IN_KEY_COLUMNS = /[\s:;,]/;

function checkNumber(value: string, option: string, min: number, max: number): void {
  if (PLACEHOLDER.test(value)) return;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max)
    throw new ConfigError(`${option} must be a whole number from ${min} to ${max}, or a \${...} placeholder`);
}

/**
 * The Debezium connector config ferry relies on, for the tables given: exact decimals and BIGINT
 * UNSIGNED, microsecond temporals, the signalling table, topic partitions and prefix, heartbeats,
 * schema history and converters; and, for every table without a primary key, its row key in
 * message.key.columns (source/mysql/row-key). Refuses, naming every such table and the fix, when
 * a table has no key ferry can use or a column whose DDL Debezium cannot parse; `cautions` names
 * the columns Debezium carries wrong at times (README, "How column values arrive").
 */
export function connectorConfig(
  settings: ConnectorSettings,
  tables: readonly TableShape[],
): { connector: ConnectorConfig; keyed: KeyedTable[]; cautions: string[] } {
  checkNumber(settings.port, '--db-port', 1, 65_535);
  checkNumber(settings.serverId, '--server-id', 1, 4_294_967_295);
  checkNumber(settings.partitions, '--partitions', 1, 100_000);
  if (settings.replicationFactor !== '-1') checkNumber(settings.replicationFactor, '--replication-factor', 1, 32_767);
  const captured = new Set(tables.map(qualifiedName));
  for (const table of settings.keys.keys())
    if (!captured.has(table)) throw new ConfigError(`--key ${table}: this connector does not capture ${table}`);

  const keyed: Array<KeyedTable & { shape: TableShape }> = [];
  const refusals: string[] = [];
  const cautions: string[] = [];
  for (const shape of [...tables].sort((a, b) => a.table.localeCompare(b.table))) {
    const table = qualifiedName(shape);
    for (const c of shape.columns.filter((c) => c.dataType === 'inet4' || c.dataType === 'inet6'))
      refusals.push(
        `${table}.${c.name} is ${c.dataType.toUpperCase()}, whose CREATE TABLE Debezium 3.4 cannot parse: the connector would stop for the whole database, even with the table left out (it parses every table's). Change the column's type (VARBINARY(16), VARCHAR(39)); README runbook "The connector stopped"`,
      );
    for (const c of shape.columns.filter((c) => c.dataType === 'uuid'))
      cautions.push(
        `${table}.${c.name} is a MariaDB UUID: Debezium 3.4 streams one whose last bytes are zero with them moved to the front (1 random UUID in 256), so as a key it names another item; BINARY(16) or CHAR(36) carry it exactly`,
      );
    try {
      const key = rowKey(shape, settings.keys.get(table), { whenOwnKey: 'refuse', namedBy: '--key' });
      if (key.origin.kind === 'primary key') continue;
      const unwritable = [shape.db, shape.table, ...key.columns].find((n) => UNWRITABLE_IN_KEY_COLUMNS.test(n));
      if (unwritable !== undefined)
        throw new ConfigError(
          `${table}: message.key.columns cannot name "${unwritable}" (it holds a space, ":", ";" or ","); add a primary key instead`,
        );
      keyed.push({ table, key, shape });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      refusals.push(err.message);
    }
  }
  if (refusals.length > 0) throw new ConfigError(refusals.join('\n'));
  const byTopic = Map.groupBy(tables.map(qualifiedName), (table) =>
    topicFor(settings.topicPrefix, { sourceTable: table }),
  );
  for (const [topic, sharing] of byTopic)
    if (sharing.length > 1)
      cautions.push(
        `${sharing.sort().join(' and ')} share topic ${topic} (a topic name holds none of the characters their names differ in): each worker skips the other tables' rows, but they share its partitions`,
      );

  const db = settings.database;
  const name = (shape: TableShape) => `${literal(shape.db)}.${literal(shape.table)}`;
  const prefix = settings.topicPrefix;
  const converter = (side: 'key' | 'value'): Record<string, string> =>
    settings.format === 'json'
      ? {
          [`${side}.converter`]: 'org.apache.kafka.connect.json.JsonConverter',
          [`${side}.converter.schemas.enable`]: 'true',
        }
      : {
          [`${side}.converter`]: 'io.apicurio.registry.utils.converter.AvroConverter',
          [`${side}.converter.apicurio.registry.url`]: settings.registryUrl,
          [`${side}.converter.apicurio.registry.auto-register`]: 'true',
          [`${side}.converter.apicurio.registry.find-latest`]: 'true',
          // The Confluent wire format, which ferry's decoder reads.
          [`${side}.converter.apicurio.registry.as-confluent`]: 'true',
          [`${side}.converter.apicurio.registry.headers.enabled`]: 'false',
          [`${side}.converter.apicurio.registry.use-id`]: 'contentId',
          ...Object.fromEntries(
            Object.entries(registryClientSecurity(settings.registryLogin)).map(([k, v]) => [
              `${side}.converter.${k}`,
              v,
            ]),
          ),
        };
  const config: Record<string, string> = {
    'connector.class': CONNECTOR_CLASS[settings.source],
    // The MySQL and MariaDB connectors read the binlog in one task: a table's changes stay in binlog order.
    'tasks.max': '1',
    'topic.prefix': prefix,

    'database.hostname': settings.hostname,
    'database.port': settings.port,
    'database.user': settings.user,
    'database.password': settings.password,
    'database.server.id': settings.serverId,
    ...(settings.sslMode ? { 'database.ssl.mode': settings.sslMode } : {}),
    'database.include.list': literal(db),
    ...(settings.namedTables
      ? { 'table.include.list': tables.map(name).sort().join(',') }
      : {
          'table.exclude.list': [settings.signalTable, ...settings.leftOut]
            .map((t) => `${literal(db)}.${literal(t)}`)
            .join(','),
        }),
    ...(keyed.length > 0
      ? {
          'message.key.columns': keyed
            .map(({ shape, key }) => `${name(shape)}:${key.columns.map(literal).join(',')}`)
            .join(';'),
        }
      : {}),

    'schema.history.internal.kafka.bootstrap.servers': settings.kafkaBootstrap,
    'schema.history.internal.kafka.topic': `${prefix}.schema-history.${db}`,
    // The schema history has a producer and a consumer of its own, outside Connect's settings.
    ...Object.fromEntries(
      Object.entries(kafkaClientSecurity(settings.kafkaSecurity)).flatMap(([key, value]) => [
        [`schema.history.internal.producer.${key}`, value],
        [`schema.history.internal.consumer.${key}`, value],
      ]),
    ),
    'include.schema.changes': 'false',

    'signal.data.collection': `${db}.${settings.signalTable}`,
    'snapshot.mode': 'initial',
    'heartbeat.interval.ms': '10000',
    'tombstones.on.delete': 'true',
    'decimal.handling.mode': 'precise',
    'time.precision.mode': 'adaptive_time_microseconds',
    'bigint.unsigned.handling.mode': 'precise',
    // The source types the decoder needs: BIGINT UNSIGNED, BOOLEAN (a TINYINT(1)), FLOAT(M,D) (see logical-types).
    'datatype.propagate.source.type': PROPAGATED_SOURCE_TYPES,
    'binary.handling.mode': 'bytes',
    // Stored dates have four-digit years: the adjuster would turn 0050-06-01 into 2050-06-01.
    'enable.time.adjuster': 'false',
    // The snapshot reads YEAR as a number: the driver's default makes a Date, which fails on 0000 and stops the connector.
    'driver.yearIsDateType': 'false',
    ...(settings.format === 'avro'
      ? {
          'schema.name.adjustment.mode': 'avro',
          'field.name.adjustment.mode': 'avro',
          'column.propagate.source.type': AVRO_RENAMED_COLUMNS,
        }
      : {}),

    'topic.creation.default.partitions': settings.partitions,
    'topic.creation.default.replication.factor': settings.replicationFactor,
    // Compaction keeps the newest change of every row for as long as the topic lives: a rebuild
    // from the start is complete whatever the topic's age (README: "How long can I go back?").
    'topic.creation.default.cleanup.policy': 'compact',
    // A worker lagging less than this still reads every delete event before compaction can drop it.
    'topic.creation.default.min.compaction.lag.ms': String(HISTORY_SETTINGS.minCompactionLagMs),
    // A tombstone outlives its delete event by this much: ferry reads it to detect a lost delete.
    'topic.creation.default.delete.retention.ms': String(HISTORY_SETTINGS.deleteRetentionMs),
    'topic.creation.default.max.message.bytes': String(CHANGE_EVENT_MAX_BYTES),
    // Needs Connect's connector.client.config.override.policy to allow it (All, Kafka's default since 3.0).
    'producer.override.max.request.size': String(CHANGE_EVENT_MAX_BYTES),

    // Incremental snapshot progress (ferry rebuild --snapshot follows its chunks here).
    'notification.enabled.channels': 'sink',
    'notification.sink.topic.name': notificationTopic(prefix),

    ...converter('key'),
    ...converter('value'),
  };
  return {
    connector: { name: settings.name, config },
    keyed: keyed.map(({ table, key }) => ({ table, key })),
    cautions,
  };
}

/** A binlog client id from the connector's name: two connectors named apart get different ids. */
export function defaultServerId(name: string): string {
  let hash = 0x811c9dc5;
  for (const ch of name) hash = Math.imul(hash ^ (ch.codePointAt(0) as number), 0x01000193) >>> 0;
  return String(100_000 + (hash % 900_000));
}
