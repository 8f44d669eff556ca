import { ConfigError } from '../../src/core/errors';
import { sourceGrants } from '../../src/deploy/grants';
import { iamPolicy, roleActions } from '../../src/deploy/iam';

const base = { account: '123456789012', region: 'eu-west-1', targetTable: 'orders', deletesTable: 'ferry-deletes' };

describe('deploy > iam', () => {
  it("allows the worker its conditional writes on the target and the remembered deletes, on those tables' ARNs only", () => {
    const { Statement } = iamPolicy({ ...base, role: 'worker' });
    expect(Statement).toEqual([
      {
        Sid: 'FerryWorkerTargetTable',
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: ['arn:aws:dynamodb:eu-west-1:123456789012:table/orders'],
      },
      {
        Sid: 'FerryWorkerDeletesTable',
        Effect: 'Allow',
        Action: ['dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: ['arn:aws:dynamodb:eu-west-1:123456789012:table/ferry-deletes'],
      },
    ]);
  });

  it('gives verify reads only, and writes with --repair; rebuild its shadow tables; table creation only when asked', () => {
    const actions = (role: Parameters<typeof roleActions>[0], options = {}) =>
      Object.fromEntries([...roleActions(role, options)].map(([t, a]) => [t, [...a].sort()]));
    expect(actions('verify')).toEqual({ target: ['BatchGetItem', 'DescribeTable', 'Scan'] });
    expect(actions('verify', { repair: true }).target).toEqual(
      expect.arrayContaining(['PutItem', 'DeleteItem', 'Scan']),
    );
    expect(Object.keys(actions('rebuild')).sort()).toEqual(['deletes', 'shadow']);
    expect(actions('worker').target).not.toContain('CreateTable');
    expect(actions('worker', { createTables: true }).deletes).toEqual(
      expect.arrayContaining(['CreateTable', 'UpdateTimeToLive']),
    );
    const shadow = iamPolicy({ ...base, role: 'rebuild', partition: 'aws-cn' }).Statement.find((s) =>
      s.Sid.includes('Shadow'),
    );
    expect(shadow?.Resource).toEqual(['arn:aws-cn:dynamodb:eu-west-1:123456789012:table/orders-rebuild-*']);
  });

  it('adds the key, through DynamoDB only, for tables under a customer managed key', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/0000';
    const statement = iamPolicy({ ...base, role: 'verify', kmsKeyArn: key }).Statement.at(-1);
    expect(statement).toMatchObject({
      Resource: [key],
      Action: expect.arrayContaining(['kms:Decrypt']),
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
    });
  });

  it('names a bad account or region', () => {
    expect(() => iamPolicy({ ...base, role: 'worker', account: '42' })).toThrow(/--account "42" is not a 12-digit/);
    expect(() => iamPolicy({ ...base, role: 'worker', region: 'europe' })).toThrow(ConfigError);
  });
});

describe('deploy > iam for MSK', () => {
  const cluster = 'arn:aws:kafka:eu-west-1:123456789012:cluster/ferry/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-2';
  const on = (id: string) => `arn:aws:kafka:eu-west-1:123456789012:${id}`;
  const msk = {
    clusterArn: cluster,
    topic: 'ferry.shop.customers',
    groupId: 'ferry.customers',
    deadLetterTopic: 'ferry.dlq.customers',
    auditTopic: 'ferry.ferry-audit',
    appliedTopic: 'ferry.applied.customers',
  };
  const kafkaGrants = (role: 'worker' | 'verify' | 'rebuild' | 'console') =>
    iamPolicy({ ...base, role, msk })
      .Statement.filter((s) => s.Action.some((a) => a.startsWith('kafka-cluster:')))
      .flatMap((s) => s.Resource.flatMap((r) => s.Action.map((a) => `${a} ${r}`)));

  it("gives the worker connect, its topic and group, and the topics it writes, on the cluster's ARNs", () => {
    const grants = kafkaGrants('worker');
    const topic = (t: string) => on(`topic/ferry/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-2/${t}`);
    expect(grants).toEqual(
      expect.arrayContaining([
        `kafka-cluster:Connect ${cluster}`,
        `kafka-cluster:ReadData ${topic('ferry.shop.customers')}`,
        `kafka-cluster:DescribeTopic ${topic('ferry.shop.customers')}`,
        `kafka-cluster:DescribeGroup ${on('group/ferry/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-2/ferry.customers')}`,
        `kafka-cluster:AlterGroup ${on('group/ferry/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-2/ferry.customers')}`,
        `kafka-cluster:WriteData ${topic('ferry.dlq.customers')}`,
        `kafka-cluster:WriteData ${topic('ferry.ferry-audit')}`,
      ]),
    );
    // Nothing it reads is written, and nothing on other topics or groups.
    expect(grants).not.toContain(`kafka-cluster:WriteData ${topic('ferry.shop.customers')}`);
    expect(
      grants.every((g) => g.includes(cluster) || g.includes('/ferry/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-2/')),
    ).toBe(true);
  });

  it('gives verify nothing on Kafka, and the rebuild its own groups', () => {
    expect(kafkaGrants('verify')).toEqual([]);
    expect(kafkaGrants('rebuild')).toContain(
      `kafka-cluster:AlterGroup ${on('group/ferry/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab-2/ferry.customers.rebuild-*')}`,
    );
  });

  it('refuses what is not an MSK cluster ARN', () => {
    expect(() => iamPolicy({ ...base, role: 'worker', msk: { ...msk, clusterArn: 'ferry' } })).toThrow(
      /--msk-cluster "ferry" is not an MSK cluster ARN/,
    );
  });
});

describe('deploy > grants', () => {
  const options = {
    table: 'shop.orders',
    signalTable: 'debezium_signal',
    cdcUser: 'ferry_cdc',
    workerUser: 'ferry',
    verifyUser: 'ferry_verify',
    host: '%',
  };

  it('names the binlog privileges as each server does', () => {
    const mysql = sourceGrants({ ...options, source: 'mysql' });
    const mariadb = sourceGrants({ ...options, source: 'mariadb' });
    expect(mysql).toContain(
      "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'ferry_cdc'@'%';",
    );
    expect(mysql).toContain("GRANT REPLICATION CLIENT ON *.* TO 'ferry_verify'@'%';");
    expect(mariadb).toContain('BINLOG MONITOR, LOCK TABLES ON *.*');
    expect(mariadb).toContain("GRANT BINLOG MONITOR ON *.* TO 'ferry_verify'@'%';");
    expect(mariadb).toContain("GRANT SELECT ON `shop`.`orders` TO 'ferry_verify'@'%';");
    expect(mariadb).toContain("GRANT SELECT, INSERT ON `shop`.`debezium_signal` TO 'ferry'@'%';");
  });

  it('quotes names, creates each user once, and names a table without its database', () => {
    const sql = sourceGrants({
      ...options,
      source: 'mysql',
      table: 'sh`op.orders',
      workerUser: "o'brien",
      verifyUser: "o'brien",
    });
    expect(sql).toContain('`sh``op`.`orders`');
    expect(sql.match(/CREATE USER IF NOT EXISTS 'o''brien'@'%'/g)).toHaveLength(1);
    expect(() => sourceGrants({ ...options, source: 'mysql', table: 'orders' })).toThrow(/not <db>\.<table>/);
  });
});
