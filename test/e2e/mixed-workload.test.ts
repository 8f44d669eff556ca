import { Scenario } from '../support/scenario';
import {
  ACCOUNTS_SCHEMA,
  ACCOUNTS_SELECT,
  AccountsWorkload,
  accountsMapping,
  decodeAccount,
} from '../support/accounts-workload';

/** Guarantees 1-3 on a real stack: every kind of change ends in exactly what the mapping says of MariaDB. */
describe('e2e > mixed workload', () => {
  const scenario = new Scenario();
  let mapping: string;

  beforeAll(async () => {
    await scenario.setUp(ACCOUNTS_SCHEMA);
    const workload = new AccountsWorkload(scenario.db);
    await workload.insert(300); // exists before the connector: arrives as snapshot reads
    await scenario.startConnector();
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
