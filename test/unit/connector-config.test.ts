import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors';
import {
  type ConnectorSettings,
  connectorConfig,
  defaultServerId,
  topicFor,
} from '../../src/source/debezium/connector-config';
import type { Column, TableShape } from '../../src/source/mysql/table-shape';

const column = (name: string, nullable = false): Column => ({
  name,
  dataType: 'int',
  columnType: 'int(11)',
  nullable,
  precision: 10,
});
const table = (name: string, keys: Partial<TableShape> = {}, db = 'inventory'): TableShape => ({
  db,
  table: name,
  columns: [column('id'), column('code'), column('region'), column('note', true)],
  primaryKey: [],
  uniqueKeys: [],
  ...keys,
});
const inventory = [
  table('customers', { primaryKey: ['id'] }),
  table('products', { primaryKey: ['id'] }),
  table('orders', { primaryKey: ['id'] }),
];

/** The settings of debezium/mariadb-json.json, placeholders and all. */
const local: ConnectorSettings = {
  source: 'mariadb',
  format: 'json',
  name: 'ferry-inventory-json',
  database: 'inventory',
  namedTables: false,
  leftOut: [],
  keys: new Map(),
  hostname: '127.0.0.1',
  port: '${FERRY_MARIADB_PORT:-3307}',
  user: 'ferry_cdc',
  password: 'ferry_cdc',
  serverId: '184101',
  sslMode: 'disable',
  topicPrefix: 'ferry',
  partitions: '${FERRY_TOPIC_PARTITIONS:-12}',
  replicationFactor: '1',
  kafkaBootstrap: '127.0.0.1:${FERRY_KAFKA_SASL_SSL_PORT:-9094}',
  // Connect's own login on the stack's TLS + SCRAM listener (scripts/stack.sh).
  kafkaSecurity: {
    kind: 'scram-sha-512',
    ca: '${FERRY_STACK_DIR}/tls/ca.pem',
    username: 'connect',
    password: 'connect-secret',
  },
  registryUrl: 'http://127.0.0.1:${FERRY_REGISTRY_PORT:-8081}/apis/registry/v2',
  signalTable: 'debezium_signal',
};
const file = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'debezium', name), 'utf8')) as object;
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('source > debezium > connector config', () => {
  it('prints exactly the configs in debezium/ from their settings: every setting ferry relies on', () => {
    expect(connectorConfig(local, inventory).connector).toEqual(file('mariadb-json.json'));
    expect(
      connectorConfig(
        { ...local, format: 'avro', name: 'ferry-inventory-avro', topicPrefix: 'ferryavro', serverId: '184102' },
        inventory,
      ).connector,
    ).toEqual(file('mariadb-avro.json'));
    expect(
      connectorConfig(
        {
          ...local,
          source: 'mysql',
          hostname: 'mysql',
          port: '3306',
          sslMode: undefined,
          partitions: '12',
          kafkaBootstrap: 'kafka:9092',
          kafkaSecurity: { kind: 'plaintext' },
        },
        inventory,
      ).connector,
    ).toEqual(file('mysql-json.json'));
  });

  it('keys every table without a primary key in message.key.columns, by its unique key or the named columns', () => {
    const { connector, keyed } = connectorConfig(
      { ...local, keys: new Map([['inventory.legacy', ['code', 'region']]]) },
      [
        ...inventory,
        table('legacy'),
        table('by_code', {
          uniqueKeys: [
            { name: 'uk_note', columns: ['note'] },
            { name: 'uk_code', columns: ['code'] },
          ],
        }),
      ],
    );
    expect(connector.config['message.key.columns']).toBe('inventory.by_code:code;inventory.legacy:code,region');
    expect(keyed).toEqual([
      { table: 'inventory.by_code', key: { columns: ['code'], origin: { kind: 'unique key', name: 'uk_code' } } },
      { table: 'inventory.legacy', key: { columns: ['code', 'region'], origin: { kind: 'named' } } },
    ]);
    // Tables with a primary key are keyed by it: no entry, and no setting at all when every table has one.
    expect(connectorConfig(local, inventory).connector.config).not.toHaveProperty('message.key.columns');
  });

  it('captures only the named tables when there are some, names read as literal patterns', () => {
    const shapes = [
      table('orders', { primaryKey: ['id'] }, 'shop$1'),
      table('line.items', { primaryKey: ['id'] }, 'shop$1'),
    ];
    const config = connectorConfig({ ...local, database: 'shop$1', namedTables: true }, shapes).connector.config;
    expect(config['database.include.list']).toBe('shop\\$1');
    expect(config['table.include.list']).toBe('shop\\$1.line\\.items,shop\\$1.orders');
    expect(config).not.toHaveProperty('table.exclude.list');
    expect(config['signal.data.collection']).toBe('shop$1.debezium_signal');
  });

  it('leaves out, besides the signalling table, the tables it is told Debezium cannot capture', () => {
    const config = connectorConfig({ ...local, database: 'shop$1', leftOut: ['ids.seq', 'audited'] }, []).connector
      .config;
    expect(config['table.exclude.list']).toBe('shop\\$1.debezium_signal,shop\\$1.ids\\.seq,shop\\$1.audited');
  });

  it('refuses every table it cannot key at once, naming each and the fix', () => {
    const message = refusal(() =>
      connectorConfig(local, [
        ...inventory,
        table('legacy'),
        table('loose', { uniqueKeys: [{ name: 'uk_note', columns: ['note'] }] }),
      ]),
    );
    expect(message.split('\n')).toEqual([
      'inventory.legacy has no primary key and no unique key over NOT NULL columns: its rows cannot be told apart. Fix: give the table a key in the connector with message.key.columns (ferry connector --key inventory.legacy=<columns>), or add a primary key',
      'inventory.loose has no primary key and no unique key over NOT NULL columns (unique key `uk_note` (note) allows NULL in note, so it does not identify a row): its rows cannot be told apart. Fix: give the table a key in the connector with message.key.columns (ferry connector --key inventory.loose=<columns>), or add a primary key',
    ]);
  });

  it('refuses a column whose CREATE TABLE Debezium cannot parse, and names those it carries wrong at times', () => {
    const typed = (name: string, dataType: string): Column => ({ ...column(name), dataType, columnType: dataType });
    const hosts = table('hosts', {
      primaryKey: ['id'],
      columns: [column('id'), typed('addr', 'inet6'), typed('v4', 'inet4')],
    });
    const devices = table('devices', { primaryKey: ['uid'], columns: [typed('uid', 'uuid'), column('n')] });
    const refused = refusal(() => connectorConfig(local, [...inventory, hosts, devices])).split('\n');
    expect(refused).toEqual([
      expect.stringMatching(
        /^inventory\.hosts\.addr is INET6, whose CREATE TABLE Debezium 3\.4 cannot parse: .*even with the table left out/,
      ),
      expect.stringMatching(/^inventory\.hosts\.v4 is INET4, whose CREATE TABLE Debezium 3\.4 cannot parse/),
    ]);
    const { cautions } = connectorConfig(local, [...inventory, devices]);
    expect(cautions).toEqual([
      expect.stringMatching(/^inventory\.devices\.uid is a MariaDB UUID: .*BINARY\(16\) or CHAR\(36\)/),
    ]);
    expect(connectorConfig(local, inventory).cautions).toEqual([]);
  });

  it('refuses a --key it cannot use: nullable, for a table with a key, or a table not captured', () => {
    const keyed = (table: string, columns: string[]) => ({ ...local, keys: new Map([[table, columns]]) });
    expect(refusal(() => connectorConfig(keyed('inventory.legacy', ['note']), [table('legacy')]))).toMatch(
      /^--key for inventory.legacy: column note allows NULL/,
    );
    expect(refusal(() => connectorConfig(keyed('inventory.orders', ['code']), inventory))).toMatch(
      /the table has its own key, id \(primary key\), which ferry uses/,
    );
    expect(refusal(() => connectorConfig(keyed('inventory.nope', ['code']), inventory))).toBe(
      '--key inventory.nope: this connector does not capture inventory.nope',
    );
  });

  it('refuses numbers that are not, and a key message.key.columns cannot spell', () => {
    expect(refusal(() => connectorConfig({ ...local, port: 'http' }, inventory))).toMatch(/--db-port must be/);
    expect(refusal(() => connectorConfig({ ...local, partitions: '0' }, inventory))).toMatch(/--partitions must be/);
    expect(connectorConfig({ ...local, replicationFactor: '-1' }, inventory).connector.config).toMatchObject({
      'topic.creation.default.replication.factor': '-1',
    });
    const spaced = table('legacy', { columns: [column('a code')] });
    expect(
      refusal(() => connectorConfig({ ...local, keys: new Map([['inventory.legacy', ['a code']]]) }, [spaced])),
    ).toMatch(/message.key.columns cannot name "a code"/);
  });

  it("names a table's topic as Debezium does: each unit a topic name cannot hold made _, at most 249 characters", () => {
    expect(topicFor('ferry', { sourceTable: 'inventory.orders' })).toBe('ferry.inventory.orders');
    // Seen on the local stack: "order items" -> order_items, "Prix€" -> Prix_.
    expect(topicFor('ferry', { sourceTable: 'inventory.order items' })).toBe('ferry.inventory.order_items');
    expect(topicFor('ferry', { sourceTable: 'inventory.Prix€' })).toBe('ferry.inventory.Prix_');
    // Java's chars are UTF-16 units: an emoji is two.
    expect(topicFor('p', { sourceTable: 'd.a😀b' })).toBe('p.d.a__b');
    expect(topicFor('p', { sourceTable: `d.${'t'.repeat(300)}` })).toHaveLength(249);
  });

  it('names the tables that share a topic', () => {
    const { cautions } = connectorConfig(local, [
      ...inventory,
      table('order items', { primaryKey: ['id'] }),
      table('order_items', { primaryKey: ['id'] }),
    ]);
    expect(cautions).toEqual([
      "inventory.order items and inventory.order_items share topic ferry.inventory.order_items (a topic name holds none of the characters their names differ in): each worker skips the other tables' rows, but they share its partitions",
    ]);
  });

  it('derives a server id from the name: stable, six digits, different names apart', () => {
    expect(defaultServerId('ferry-shop-json')).toBe(defaultServerId('ferry-shop-json'));
    expect(defaultServerId('ferry-shop-json')).toMatch(/^[1-9]\d{5}$/);
    expect(defaultServerId('ferry-shop-json')).not.toBe(defaultServerId('ferry-shop-avro'));
  });
});

describe('source > debezium > the schema history’s Kafka login', () => {
  const history = (security: ConnectorSettings['kafkaSecurity']) =>
    Object.fromEntries(
      Object.entries(connectorConfig({ ...local, kafkaSecurity: security }, inventory).connector.config)
        .filter(([key]) => key.startsWith('schema.history.internal.producer.'))
        .map(([key, value]) => [key.slice('schema.history.internal.producer.'.length), value]),
    );

  it('gives the producer and the consumer the same settings', () => {
    const config = connectorConfig(local, inventory).connector.config;
    const side = (name: string) =>
      Object.entries(config)
        .filter(([key]) => key.startsWith(`schema.history.internal.${name}.`))
        .map(([key, value]) => [key.replace(`.${name}.`, '.'), value]);
    expect(side('consumer')).toEqual(side('producer'));
    expect(side('producer')).toHaveLength(5);
  });

  it.each([
    ['plaintext', { kind: 'plaintext' } as const, {}],
    ['tls', { kind: 'tls' } as const, { 'security.protocol': 'SSL' }],
    [
      'mtls',
      { kind: 'mtls', ca: '/etc/ca.pem', keystore: '/etc/connect.pem' } as const,
      {
        'security.protocol': 'SSL',
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': '/etc/ca.pem',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': '/etc/connect.pem',
      },
    ],
    [
      'scram-sha-256',
      { kind: 'scram-sha-256', username: 'cdc', password: '${file:/s.properties:kafka.password}' } as const,
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-256',
        'sasl.jaas.config':
          'org.apache.kafka.common.security.scram.ScramLoginModule required username="cdc" password="${file:/s.properties:kafka.password}";',
      },
    ],
    [
      'aws-msk-iam',
      { kind: 'aws-msk-iam' } as const,
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'AWS_MSK_IAM',
        'sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
        'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
      },
    ],
  ])('%s', (_, security, expected) => {
    expect(history(security)).toEqual(expected);
  });

  it('refuses a login it cannot print: mtls without a keystore, SCRAM without a user, a quote in JAAS', () => {
    expect(refusal(() => history({ kind: 'mtls' }))).toMatch(/--kafka-keystore/);
    expect(refusal(() => history({ kind: 'scram-sha-512', password: 'p' }))).toMatch(/--kafka-username/);
    expect(refusal(() => history({ kind: 'scram-sha-512', username: 'u', password: 'a"b' }))).toMatch(
      /--kafka-password cannot hold "/,
    );
  });
});

describe('source > debezium > the converters’ registry login', () => {
  const avro = (registryLogin?: ConnectorSettings['registryLogin']) =>
    connectorConfig({ ...local, format: 'avro', registryLogin }, inventory).connector.config;
  const converterKeys = (config: Record<string, string>, side: 'key' | 'value') =>
    Object.fromEntries(
      Object.entries(config)
        .filter(([key]) => key.startsWith(`${side}.converter.apicurio.auth.`) || key.includes('.request.ssl.'))
        .filter(([key]) => key.startsWith(`${side}.`))
        .map(([key, value]) => [key.slice(`${side}.converter.`.length), value]),
    );

  it('gives both converters basic auth and a PKCS#12 trust store, secrets as given', () => {
    const config = avro({
      username: 'connect',
      password: '${file:/etc/kafka-connect/ferry-source.properties:registry.password}',
      truststore: '/etc/kafka-connect/registry-ca.p12',
      truststorePassword: 'changeit',
    });
    const expected = {
      'apicurio.auth.username': 'connect',
      'apicurio.auth.password': '${file:/etc/kafka-connect/ferry-source.properties:registry.password}',
      'apicurio.registry.request.ssl.truststore.location': '/etc/kafka-connect/registry-ca.p12',
      'apicurio.registry.request.ssl.truststore.type': 'PKCS12',
      'apicurio.registry.request.ssl.truststore.password': 'changeit',
    };
    expect(converterKeys(config, 'key')).toEqual(expected);
    expect(converterKeys(config, 'value')).toEqual(expected);
  });

  it('prints no login without a user, and none for JSON', () => {
    expect(converterKeys(avro({ password: 'x' }), 'value')).toEqual({});
    expect(converterKeys(avro(), 'value')).toEqual({});
    const json = connectorConfig({ ...local, registryLogin: { username: 'u', password: 'p' } }, inventory).connector;
    expect(Object.keys(json.config).filter((k) => k.includes('apicurio'))).toEqual([]);
  });
});
