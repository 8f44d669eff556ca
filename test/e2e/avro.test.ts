import { Scenario } from '../support/scenario';
import { ACCOUNTS_SELECT, accountsMapping, decodeAccount, startAccounts } from '../support/accounts-workload';
import { stack } from '../support/stack';

/** The Avro connector (Confluent wire format through the registry's ccompat API) end to end. */
describe('e2e > avro through the schema registry', () => {
  const scenario = new Scenario();

  beforeAll(async () => {
    const workload = await startAccounts(scenario, 50, 'avro');
    for (let i = 0; i < 150; i++) await workload.randomChange();
  }, 180_000);

  afterAll(() => scenario.tearDown());

  it('converges from Avro-encoded changes exactly as from JSON', async () => {
    const mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    await scenario.startWorker(mapping, {
      FERRY_FORMAT: 'avro',
      FERRY_SCHEMA_REGISTRY_URL: `${stack.registryUrl}/apis/ccompat/v7`,
    });
    expect(await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount)).toBeGreaterThan(50);
  }, 300_000);
});
