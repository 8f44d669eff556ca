import { ConfigError } from '../core/errors';

/** Who runs ferry against DynamoDB, each with the calls it makes. */
export const ROLES = ['worker', 'verify', 'rebuild', 'console'] as const;
export type Role = (typeof ROLES)[number];

/** The tables a role touches: the mapping's target, the remembered deletes, a rebuild's shadow tables. */
type TableRole = 'target' | 'deletes' | 'shadow';

/** The conditional writer: creates in one transaction with a check of the remembered deletes. */
const WRITES: Array<[TableRole, string[]]> = [
  ['target', ['PutItem', 'DeleteItem']],
  ['deletes', ['DescribeTable', 'PutItem', 'ConditionCheckItem']],
];

/**
 * The DynamoDB actions each role calls, by table, as `integration/iam` records them through a
 * proxy in front of DynamoDB Local (a transaction needs the actions it holds, not one of its own).
 */
export function roleActions(role: Role, options: { createTables?: boolean; repair?: boolean } = {}) {
  const access = new Map<TableRole, Set<string>>();
  const add = (table: TableRole, actions: string[]) =>
    actions.forEach((a) => (access.get(table) ?? access.set(table, new Set()).get(table))?.add(a));
  if (role === 'worker') {
    WRITES.forEach(([table, actions]) => add(table, actions));
    // A tombstone read without its delete: the item's version is read before anything is decided.
    add('target', ['GetItem']);
    // Each partition's read, kept for the next process (pipeline/source-order).
    add('deletes', ['GetItem']);
    if (options.createTables) {
      add('target', ['DescribeTable', 'CreateTable']);
      add('deletes', ['CreateTable', 'UpdateTimeToLive']);
    }
  } else if (role === 'verify') {
    add('target', ['DescribeTable', 'Scan', 'BatchGetItem']);
    if (options.repair) WRITES.forEach(([table, actions]) => add(table, actions));
  } else if (role === 'rebuild') {
    // A new shadow table and the deletes it remembers, batch-written; an item DynamoDB refuses in a
    // batch goes through the conditional writer.
    add('shadow', [
      'DescribeTable',
      'CreateTable',
      'BatchWriteItem',
      'BatchGetItem',
      'GetItem',
      'PutItem',
      'DeleteItem',
    ]);
    add('deletes', ['DescribeTable', 'BatchWriteItem', 'GetItem', 'PutItem', 'ConditionCheckItem']);
  } else {
    // The item page reads; a retry writes as a redrive does.
    add('target', ['GetItem']);
    WRITES.forEach(([table, actions]) => add(table, actions));
  }
  return access;
}

export interface PolicyOptions {
  role: Role;
  account: string;
  region: string;
  /** The AWS partition: aws, aws-cn, aws-us-gov. */
  partition?: string;
  targetTable: string;
  deletesTable: string;
  createTables?: boolean;
  repair?: boolean;
  /** A customer managed key the tables are encrypted with. */
  kmsKeyArn?: string;
  /** An MSK cluster with IAM authentication, and the topics and group the role uses there. */
  msk?: Omit<MskOptions, 'role'>;
}

interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string>>;
}

const sid = (text: string) => text.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());

/** An IAM policy document that allows the role exactly its calls, on its tables' ARNs only. */
export function iamPolicy(options: PolicyOptions): { Version: '2012-10-17'; Statement: Statement[] } {
  const { role, account, region, partition = 'aws' } = options;
  if (!/^\d{12}$/.test(account)) throw new ConfigError(`--account "${account}" is not a 12-digit AWS account id`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new ConfigError(`--region "${region}" is not an AWS region, e.g. eu-west-1`);
  const arn = (table: string) => `arn:${partition}:dynamodb:${region}:${account}:table/${table}`;
  const tables: Record<TableRole, string> = {
    target: arn(options.targetTable),
    deletes: arn(options.deletesTable),
    shadow: arn(`${options.targetTable}-rebuild-*`),
  };
  const statements: Statement[] = [...roleActions(role, options)].map(([table, actions]) => ({
    Sid: sid(`ferry ${role} ${table} table`),
    Effect: 'Allow',
    Action: [...actions].sort().map((a) => `dynamodb:${a}`),
    Resource: [tables[table]],
  }));
  if (options.kmsKeyArn)
    statements.push({
      Sid: sid(`ferry ${role} table key`),
      Effect: 'Allow',
      // DynamoDB uses the key on the caller's behalf, and only through DynamoDB.
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: [options.kmsKeyArn],
      Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
    });
  if (options.msk) statements.push(...mskStatements({ role, ...options.msk }));
  return { Version: '2012-10-17', Statement: statements };
}

export interface MskOptions {
  role: Role;
  /** arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid> */
  clusterArn: string;
  topic: string;
  groupId: string;
  deadLetterTopic: string;
  auditTopic: string;
  appliedTopic: string;
}

/**
 * The kafka-cluster statements a role needs on an MSK cluster with IAM authentication: connect;
 * read the mapping's topic in its group; write (and create) the topics ferry writes. From MSK's
 * table of actions for the Kafka requests each role sends; no MSK is reachable to record them.
 */
export function mskStatements(options: MskOptions): Statement[] {
  const match = /^arn:([a-z-]+):kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/]+)$/.exec(options.clusterArn);
  if (!match)
    throw new ConfigError(
      `--msk-cluster "${options.clusterArn}" is not an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)`,
    );
  const [, partition, region, account, name, uuid] = match;
  const arn = (kind: 'topic' | 'group', id: string) =>
    `arn:${partition}:kafka:${region}:${account}:${kind}/${name}/${uuid}/${id}`;
  const { role } = options;
  const statement = (what: string, actions: string[], resources: string[]): Statement => ({
    Sid: sid(`ferry ${role} kafka ${what}`),
    Effect: 'Allow',
    Action: actions.map((a) => `kafka-cluster:${a}`),
    Resource: resources,
  });
  const connect = statement('cluster', ['Connect', 'DescribeCluster'], [options.clusterArn]);
  const read = (groups: string[]) => [
    statement(
      'source topic',
      ['DescribeTopic', 'DescribeTopicDynamicConfiguration', 'ReadData'],
      [arn('topic', options.topic)],
    ),
    statement(
      'group',
      ['DescribeGroup', 'AlterGroup'],
      groups.map((g) => arn('group', g)),
    ),
  ];
  // ferry creates the topics it writes when they are missing, with their retention.
  const write = (topics: string[]) =>
    statement(
      'written topics',
      ['CreateTopic', 'DescribeTopic', 'DescribeTopicDynamicConfiguration', 'WriteData'],
      topics.map((t) => arn('topic', t)),
    );
  if (role === 'verify') return [];
  if (role === 'worker')
    return [
      connect,
      ...read([options.groupId]),
      write([options.deadLetterTopic, options.appliedTopic, options.auditTopic]),
    ];
  if (role === 'rebuild') return [connect, ...read([`${options.groupId}.rebuild-*`]), write([options.auditTopic])];
  // The console reads the groups' offsets, the dead letters and the audit, and retries as a redrive does.
  return [
    connect,
    ...read([options.groupId, `${options.groupId}.redrive`]),
    statement(
      'read topics',
      ['DescribeTopic', 'ReadData'],
      [options.deadLetterTopic, options.appliedTopic, options.auditTopic].map((t) => arn('topic', t)),
    ),
    write([options.deadLetterTopic, options.appliedTopic, options.auditTopic]),
  ];
}
