import { join } from 'node:path';
import { Scenario } from '../support/scenario';
import { ACCOUNTS_SELECT, accountsMapping, decodeAccount, startAccounts } from '../support/accounts-workload';
import { startSecuredRegistry } from '../support/registry-proxy';
import { maxBlockedSeconds, stack, waitFor } from '../support/stack';

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
});
