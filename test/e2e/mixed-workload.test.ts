import { Scenario } from '../support/scenario';
import { ACCOUNTS_SELECT, accountsMapping, decodeAccount, startAccounts } from '../support/accounts-workload';

/** Guarantees 1-3 on a real stack: every kind of change ends in exactly what the mapping says of MariaDB. */
describe('e2e > mixed workload', () => {
  const scenario = new Scenario();
  let mapping: string;

  beforeAll(async () => {
    const workload = await startAccounts(scenario, 300);
    mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    await scenario.startWorker(mapping);
    for (let i = 0; i < 40; i++) {
      await workload.transaction(8);
      for (let j = 0; j < 20; j++) await workload.randomChange();
    }
    scenario.outputs.push(`workload: ${workload.changes} changes`);
  }, 300_000);

  afterAll(() => scenario.tearDown());

  it('converges to the mapping of the final source state', async () => {
    const items = await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
    expect(items).toBeGreaterThan(400);
  }, 180_000);
});
