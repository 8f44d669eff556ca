import { Scenario } from '../support/scenario';
import { waitFor } from '../support/stack';
import {
  ACCOUNTS_SELECT,
  type AccountsWorkload,
  accountsMapping,
  decodeAccount,
  startAccounts,
} from '../support/accounts-workload';

/** Horizontal scaling: workers joining and leaving mid-load rebalance partitions without loss or disorder. */
describe('e2e > scale out and in', () => {
  const scenario = new Scenario();
  let workload: AccountsWorkload;

  beforeAll(async () => {
    workload = await startAccounts(scenario, 100);
  }, 180_000);

  afterAll(() => scenario.tearDown());

  it('converges while a second worker joins and the first leaves during the load', async () => {
    const mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
    const first = await scenario.startWorker(mapping);
    const load = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        await workload.transaction(5);
        for (let j = 0; j < 10; j++) await workload.randomChange();
      }
    };
    await load(20);
    const second = await scenario.startWorker(mapping);
    await load(20);
    expect(await first.stop('SIGTERM')).toBe(0);
    await load(20);
    // The second worker joined, then rejoined with every partition when the first left.
    await waitFor(
      'the second worker to rejoin',
      async () => (second.output().match(/"msg":"joined consumer group"/g) ?? []).length >= 2,
      60_000,
    );
    await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount);
  }, 300_000);
});
