import { Command } from 'commander';
import { type KafkaSettings, loadConfig } from '../../config/config';
import { ConfigError } from '../../core/errors';
import { connectClient, describeStatus, waitForNewConnector } from '../../source/connect/connect-client';
import {
  CONNECT_KAFKA_SECURITY,
  type ConnectKafkaSecurity,
  type ConnectRegistryLogin,
  connectorConfig,
  defaultServerId,
} from '../../source/debezium/connector-config';
import { connectSource } from '../../source/mysql/connection';
import { describeRowKey } from '../../source/mysql/row-key';
import { serverOf } from '../../source/mysql/server';
import { describeTable, listTables } from '../../source/mysql/table-shape';
import { json, print } from '../output';

/** Why a sequence or a system-versioned table is not captured (README runbook "The connector stopped"). */
const UNCAPTURABLE =
  "whose row events Debezium 3.4 cannot read: a captured one stops the connector for the whole database (README runbook 'The connector stopped')";

/**
 * Where the connector's database password comes from by default: a Kafka Connect config provider
 * resolves it when the connector starts, so neither this output nor Connect's REST API shows it.
 */
export const DEFAULT_PASSWORD = '${file:/etc/kafka-connect/ferry-source.properties:password}';

/** Where the schema history's Kafka password comes from by default, as the database password's. */
export const DEFAULT_KAFKA_PASSWORD = '${file:/etc/kafka-connect/ferry-source.properties:kafka.password}';

/** And the registry's, and its trust store's. */
export const DEFAULT_REGISTRY_PASSWORD = '${file:/etc/kafka-connect/ferry-source.properties:registry.password}';
export const DEFAULT_TRUSTSTORE_PASSWORD =
  '${file:/etc/kafka-connect/ferry-source.properties:registry.truststore.password}';

interface ConnectorOptions {
  source?: string;
  database: string;
  tables?: string;
  format?: string;
  name?: string;
  key: string[];
  topicPrefix?: string;
  partitions: string;
  replicationFactor: string;
  dbHost?: string;
  dbPort?: string;
  dbUser: string;
  dbPassword: string;
  dbSslMode?: string;
  serverId?: string;
  kafkaBootstrap?: string;
  kafkaSecurity?: string;
  kafkaCa?: string;
  kafkaKeystore?: string;
  kafkaUsername?: string;
  kafkaPassword: string;
  registryUrl?: string;
  registryUsername?: string;
  registryPassword: string;
  registryTruststore?: string;
  registryTruststorePassword: string;
  apply?: string;
  config?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** How long --apply waits for the connector and its task to run: a first start loads the plugin. */
const APPLY_TIMEOUT_MS = 120_000;

/** `--key db.table=col1,col2` -> ['db.table', ['col1', 'col2']]. */
function parseKey(value: string, database: string): [string, string[]] {
  const match = /^([^.=]+)\.([^=]+)=(.+)$/.exec(value);
  if (!match) throw new ConfigError(`--key "${value}" is not <db.table>=<column>[,<column>...]`);
  const [, db, table, columns] = match as unknown as [string, string, string, string];
  if (db !== database) throw new ConfigError(`--key ${db}.${table}: this connector captures database ${database}`);
  return [`${db}.${table}`, columns.split(',').map((c) => c.trim())];
}

/** --kafka-security and its files and login, or what ferry's own Kafka settings say. */
function connectKafkaSecurity(opts: ConnectorOptions, kafka: KafkaSettings): ConnectKafkaSecurity {
  const kind =
    opts.kafkaSecurity ??
    (kafka.sasl?.mechanism === 'plain' ? undefined : kafka.sasl?.mechanism) ??
    (kafka.sslCert ? 'mtls' : kafka.ssl || kafka.sslCa ? 'tls' : 'plaintext');
  if (!(CONNECT_KAFKA_SECURITY as readonly string[]).includes(kind))
    throw new ConfigError(
      opts.kafkaSecurity
        ? `--kafka-security must be one of ${CONNECT_KAFKA_SECURITY.join(', ')}, not "${kind}"`
        : `--kafka-security: ferry logs in with SASL/PLAIN, which ferry connector does not print; name one of ${CONNECT_KAFKA_SECURITY.join(', ')}`,
    );
  return {
    kind: kind as ConnectKafkaSecurity['kind'],
    ca: opts.kafkaCa,
    keystore: opts.kafkaKeystore,
    username: opts.kafkaUsername,
    password: opts.kafkaPassword,
  };
}

function describeRegistryLogin(url: string, { username, truststore }: ConnectRegistryLogin): string {
  const login = username ? `with basic auth as ${username}` : 'without a login (--registry-username for basic auth)';
  if (!url.startsWith('https:')) return `${url} ${login}`;
  return `${url} ${login}, trusting ${truststore ?? "the JVM's CAs (--registry-truststore for a PKCS#12 of the CA)"}`;
}

function describeSecurity({ kind, ca, username }: ConnectKafkaSecurity): string {
  if (kind === 'plaintext') return 'in plaintext (--kafka-security for TLS and SASL)';
  const trust = ca ? `trusting ${ca}` : "trusting the JVM's CAs";
  if (kind === 'tls' || kind === 'mtls')
    return `over TLS${kind === 'mtls' ? ' with a client certificate' : ''}, ${trust}`;
  return `over TLS with ${kind === 'aws-msk-iam' ? 'MSK IAM (aws-msk-iam-auth on the plugin path)' : `${kind.toUpperCase()} as ${username}`}, ${trust}`;
}

/** `ferry connector`: the Debezium connector config for a database, every table given a key. */
export function connectorCommand(): Command {
  return new Command('connector')
    .description(
      'Print the Debezium connector config ferry relies on for a database (JSON {name, config}), giving each table without a primary key a key (message.key.columns)',
    )
    .option('--source <kind>', "mysql | mariadb: the connector class (default: the server's, from SELECT VERSION())")
    .requiredOption('--database <db>', 'the database to capture')
    .option(
      '--tables <names>',
      'only these tables, comma-separated (default: every table but the signalling table, sequences and system-versioned tables)',
    )
    .option('--format <format>', 'json | avro (default: FERRY_FORMAT)')
    .option('--name <name>', 'connector name (default: ferry-<database>-<format>)')
    .option(
      '--key <db.table=columns>',
      'the NOT NULL columns that identify a row of a table without a primary key or a unique key over NOT NULL columns; repeat per table',
      collect,
      [],
    )
    .option('--topic-prefix <prefix>', "Debezium's topic.prefix (default: FERRY_KAFKA_TOPIC_PREFIX)")
    .option('--partitions <n>', 'partitions of each topic Connect creates', '12')
    .option(
      '--replication-factor <n>',
      'replication factor of each topic Connect creates; -1: the broker default',
      '-1',
    )
    .option('--db-host <host>', 'the database host as Kafka Connect reaches it (default: the host of FERRY_SOURCE_URL)')
    .option('--db-port <port>', 'the database port as Kafka Connect reaches it (default: the port of FERRY_SOURCE_URL)')
    .option('--db-user <user>', "the connector's database user (replication privileges)", 'ferry_cdc')
    .option(
      '--db-password <value>',
      'printed as given: a Connect config provider placeholder, or the password itself for a local stack',
      DEFAULT_PASSWORD,
    )
    .option('--db-ssl-mode <mode>', "database.ssl.mode (default: the connector's)")
    .option('--server-id <n>', 'binlog client id, unique among the clients of the database (default: from --name)')
    .option(
      '--kafka-bootstrap <servers>',
      'Kafka as Connect reaches it, for the schema history topic (default: FERRY_KAFKA_BROKERS)',
    )
    .option(
      '--kafka-security <kind>',
      `how Connect reaches Kafka for the schema history: ${CONNECT_KAFKA_SECURITY.join(' | ')} (default: as ferry does, from FERRY_KAFKA_SSL*, FERRY_KAFKA_SASL_MECHANISM)`,
    )
    .option('--kafka-ca <file>', "PEM file of the brokers' CA on Connect's host (default: the JVM's trusted CAs)")
    .option('--kafka-keystore <file>', "mtls: PEM file of Connect's private key and certificate chain")
    .option('--kafka-username <user>', 'scram-*: the user Connect logs in as')
    .option('--kafka-password <value>', 'scram-*: printed as given, like --db-password', DEFAULT_KAFKA_PASSWORD)
    .option(
      '--registry-url <url>',
      "Apicurio's registry API as Connect reaches it, for avro (default: FERRY_SCHEMA_REGISTRY_URL at /apis/registry/v2)",
    )
    .option(
      '--registry-username <user>',
      "avro: the converters' basic-auth user (default: FERRY_SCHEMA_REGISTRY_USERNAME)",
    )
    .option('--registry-password <value>', 'avro: printed as given, like --db-password', DEFAULT_REGISTRY_PASSWORD)
    .option(
      '--registry-truststore <file>',
      "avro: PKCS#12 trust store of the registry's CA on Connect's host (default: the JVM's trusted CAs)",
    )
    .option('--registry-truststore-password <value>', 'avro: printed as given', DEFAULT_TRUSTSTORE_PASSWORD)
    .option('--apply <connect-url>', 'also register it with Kafka Connect there, and wait until it runs')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: ConnectorOptions) => {
      if (opts.source !== undefined && opts.source !== 'mysql' && opts.source !== 'mariadb')
        throw new ConfigError(`--source must be mysql or mariadb, not "${opts.source}"`);
      const config = loadConfig({ file: opts.config });
      const format = opts.format ?? config.format;
      if (format !== 'json' && format !== 'avro')
        throw new ConfigError(`--format must be json or avro, not "${format}"`);
      const database = opts.database;
      const keys = new Map(opts.key.map((k) => parseKey(k, database)));
      const sourceUrl = new URL(config.source.url);
      const name = opts.name ?? `ferry-${database}-${format}`;
      const signalTable = config.source.signalTable;
      const kafkaSecurity = connectKafkaSecurity(opts, config.kafka);
      const registryUrl =
        opts.registryUrl ?? config.schemaRegistry.url.replace(/\/apis\/ccompat\/v\d+\/?$/, '/apis/registry/v2');
      const registryLogin: ConnectRegistryLogin = {
        username: opts.registryUsername ?? config.schemaRegistry.username,
        password: opts.registryPassword,
        truststore: opts.registryTruststore,
        truststorePassword: opts.registryTruststorePassword,
      };

      const source = await connectSource(config.source.url);
      try {
        const kind = (opts.source as 'mysql' | 'mariadb' | undefined) ?? (await serverOf(source)).kind;
        const { base: existing, uncapturable } = await listTables(source, database);
        if (existing.length === 0)
          throw new ConfigError(`database ${database} has no tables (or does not exist, or this user cannot read it)`);
        const named = opts.tables
          ?.split(',')
          .map((t) => t.trim())
          .filter(Boolean)
          .map((t) => (t.startsWith(`${database}.`) ? t.slice(database.length + 1) : t));
        const unknown = (named ?? []).filter((t) => !existing.includes(t) && !uncapturable.some((u) => u.name === t));
        if (unknown.length > 0)
          throw new ConfigError(
            `--tables: ${database} has no table ${unknown.join(', ')} (it has ${existing.join(', ')})`,
          );
        const refused = uncapturable.find((t) => named?.includes(t.name));
        if (refused)
          throw new ConfigError(`--tables: ${database}.${refused.name} is a ${refused.kind}, ${UNCAPTURABLE}`);
        if (named?.includes(signalTable))
          throw new ConfigError(`--tables: ${signalTable} is Debezium's signalling table, which ferry does not carry`);
        const tables = named ?? existing.filter((t) => t !== signalTable);
        const leftOut = named ? [] : uncapturable;
        const shapes = [];
        for (const table of tables) shapes.push(await describeTable(source, `${database}.${table}`));
        const { connector, keyed, cautions } = connectorConfig(
          {
            source: kind,
            format,
            name,
            database,
            namedTables: named !== undefined,
            leftOut: leftOut.map((t) => t.name),
            keys,
            hostname: opts.dbHost ?? sourceUrl.hostname,
            port: opts.dbPort ?? (sourceUrl.port || '3306'),
            user: opts.dbUser,
            password: opts.dbPassword,
            serverId: opts.serverId ?? defaultServerId(name),
            sslMode: opts.dbSslMode,
            topicPrefix: opts.topicPrefix ?? config.kafka.topicPrefix,
            partitions: opts.partitions,
            replicationFactor: opts.replicationFactor,
            kafkaBootstrap: opts.kafkaBootstrap ?? config.kafka.brokers.join(','),
            kafkaSecurity,
            registryUrl,
            registryLogin,
            signalTable,
          },
          shapes,
        );
        // stdout is the config alone, ready for `curl -X PUT .../connectors/<name>/config`; what was chosen goes to stderr.
        process.stderr.write(`ferry: the schema history reaches Kafka ${describeSecurity(kafkaSecurity)}\n`);
        if (format === 'avro')
          process.stderr.write(
            `ferry: the converters reach the registry at ${describeRegistryLogin(registryUrl, registryLogin)}\n`,
          );
        for (const { table, key } of keyed)
          process.stderr.write(`ferry: ${table} has no primary key: keyed by ${describeRowKey(key)}\n`);
        for (const { name: table, kind } of leftOut)
          process.stderr.write(
            `ferry: ${database}.${table} is left out (table.exclude.list): a ${kind}, ${UNCAPTURABLE}\n`,
          );
        for (const caution of cautions) process.stderr.write(`ferry: ${caution}\n`);
        print(json(connector));
        if (opts.apply) {
          const connect = connectClient(opts.apply);
          await connect.apply(connector.name, connector.config);
          const status = await waitForNewConnector(connect, connector.name, APPLY_TIMEOUT_MS);
          process.stderr.write(`ferry: connector ${connector.name} ${describeStatus(status)} at ${connect.url}\n`);
        }
      } finally {
        await source.end();
      }
    });
}
