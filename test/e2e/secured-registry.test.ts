import { join } from 'node:path';
import { Scenario } from '../support/scenario';
import { ACCOUNTS_SELECT, accountsMapping, decodeAccount, startAccounts } from '../support/accounts-workload';
import { runFerry } from '../support/cli';
import { startSecuredRegistry } from '../support/registry-proxy';
import {
  connectKafkaOptions,
  dropTable,
  maxBlockedSeconds,
  removeConnector,
  scanAll,
  stack,
  waitFor,
} from '../support/stack';

const PASSWORD = 'registry-secret';

/** Avro through a registry that asks for TLS and basic auth; a wrong login or CA blocks, naming the setting. */
describe('e2e > a secured schema registry', () => {
  const scenario = new Scenario();
  let registry: Awaited<ReturnType<typeof startSecuredRegistry>>;
  let mapping: string;
  let secured: Record<string, string>;

  beforeAll(async () => {
    registry = await startSecuredRegistry('ferry', PASSWORD);
    const workload = await startAccounts(scenario, 40, 'avro');
    for (let i = 0; i < 40; i++) await workload.randomChange();
    mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    secured = {
      FERRY_FORMAT: 'avro',
      FERRY_SCHEMA_REGISTRY_URL: registry.url,
      FERRY_SCHEMA_REGISTRY_CA: join(stack.tlsDir, 'ca.pem'),
      FERRY_SCHEMA_REGISTRY_USERNAME: 'ferry',
      FERRY_SCHEMA_REGISTRY_PASSWORD: PASSWORD,
    };
  }, 180_000);

  afterAll(async () => {
    await scenario.tearDown();
    await registry.close();
  });

  it.each([
    [
      'a wrong password',
      { FERRY_SCHEMA_REGISTRY_PASSWORD: 'not-the-password' },
      /HTTP 401.*FERRY_SCHEMA_REGISTRY_PASSWORD/,
    ],
    ['an unknown CA', { FERRY_SCHEMA_REGISTRY_CA: '' }, /not signed by a CA ferry trusts.*FERRY_SCHEMA_REGISTRY_CA/],
  ])(
    'blocks on %s, naming the setting, with no dead letter and no secret logged',
    async (_, wrong, message) => {
      const worker = await scenario.startWorker(mapping, { ...secured, ...wrong, FERRY_RETRY_MAX_ATTEMPTS: '2' });
      await waitFor('a blocked partition', async () => (await maxBlockedSeconds(worker.httpPort)) > 0, 60_000);
      const blocked = worker
        .output()
        .split('\n')
        .find((l) => l.includes('partition blocked'));
      expect(JSON.parse(blocked as string).error).toMatch(message);
      const metrics = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
      expect(metrics).not.toMatch(/ferry_dead_letters_total\{[^}]*\} [1-9]/);
      await worker.stop();
      expect(worker.output()).not.toContain(PASSWORD);
      expect(worker.output()).not.toContain('not-the-password');
    },
    120_000,
  );

  it('converges through TLS and basic auth', async () => {
    const worker = await scenario.startWorker(mapping, secured);
    expect(await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount)).toBeGreaterThan(40);
    await worker.stop();
    expect(worker.output()).not.toContain(PASSWORD);
  }, 300_000);

  it('registers Connect’s converters through TLS and basic auth with the login ferry connector prints', async () => {
    const name = `ferry-registry-${scenario.id}`;
    const prefix = `r${scenario.id}`;
    const table = `${scenario.table}-things`;
    await scenario.db.query(`CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(20))`);
    await scenario.db.query(`INSERT INTO things VALUES (1, 'one'), (2, 'two')`);
    scenario.configureCli();
    // The registry's URL and user are ferry's own by default; Connect gets the CA as PKCS#12.
    Object.assign(process.env, { FERRY_SCHEMA_REGISTRY_URL: registry.url, FERRY_SCHEMA_REGISTRY_USERNAME: 'ferry' });
    const connector = (password: string, suffix = '') =>
      runFerry(
        'connector',
        ...['--format', 'avro', '--database', scenario.database, '--tables', 'things'],
        ...['--name', `${name}${suffix}`, '--topic-prefix', `${prefix}${suffix}`],
        ...connectKafkaOptions(),
        ...['--db-host', '127.0.0.1', '--db-port', String(stack.mariadb.port), '--db-password', 'ferry_cdc'],
        ...['--registry-password', password, '--registry-truststore', join(stack.tlsDir, 'ca.p12')],
        ...['--registry-truststore-password', 'ferry-trust', '--apply', stack.connectUrl],
      );
    try {
      const applied = await connector(PASSWORD);
      expect([applied.code, applied.err]).toEqual([0, expect.stringMatching(/RUNNING/)]);
      expect(applied.err).toMatch(
        new RegExp(
          `registry at ${registry.url.replace('/apis/ccompat/v7', '/apis/registry/v2')} with basic auth as ferry, trusting .*ca\\.p12`,
        ),
      );
      const things = scenario.writeMapping(
        'things.ts',
        `name: 'things-${scenario.id}', key: (row) => ({ pk: 'T#' + row.id, sk: 'T' }), item: (row) => ({ name: row.name }),`,
        'things',
        table,
      );
      const worker = await scenario.startWorker(things, { ...secured, FERRY_KAFKA_TOPIC_PREFIX: prefix });
      await waitFor(
        'both rows, Avro through the secured registry',
        async () => (await scanAll(table)).length === 2,
        90_000,
      );
      await worker.stop();

      // A wrong password: the converter cannot register the schema, and the task fails saying so.
      // The task runs until its first row meets the registry.
      expect((await connector('not-the-password', '-bad')).code).toBe(0);
      const trace = await waitFor('the task to fail', () => scenario.connectorFailure(`${name}-bad`), 60_000);
      expect(trace).toMatch(/NotAuthorizedException: Authentication exception/);
    } finally {
      await removeConnector(name);
      await removeConnector(`${name}-bad`);
      await dropTable(table);
    }
  }, 300_000);
});
