import { Scenario } from '../support/scenario';
import {
  ACCOUNTS_SELECT,
  type AccountsWorkload,
  accountsMapping,
  decodeAccount,
  random,
  startAccounts,
} from '../support/accounts-workload';
import type { RunningWorker } from '../support/stack';

const TARGET_CHANGES = 20_000;

/** Guarantee 1: SIGKILL at random moments loses nothing; it only replays. */
describe('e2e > crash recovery', () => {
  const scenario = new Scenario();
  let mapping: string;
  let workload: AccountsWorkload;

  beforeAll(async () => {
    workload = await startAccounts(scenario, 500);
    mapping = scenario.writeMapping('accounts.ts', accountsMapping(`accounts-${scenario.id}`));
  }, 180_000);

  afterAll(() => scenario.tearDown());

  it(`converges after repeated SIGKILLs during ${TARGET_CHANGES} changes, and reports redeliveries`, async () => {
    const chaos = random(11);
    const env = { FERRY_LOG_LEVEL: 'debug', FERRY_PIPELINE_MAX_CHUNK: '500' };
    let worker: RunningWorker = await scenario.startWorker(mapping, env);
    let loading = true;
    let kills = 0;
    let killsDuringLoad = 0;

    const load = (async () => {
      while (workload.changes < TARGET_CHANGES) {
        await workload.insert(150);
        await scenario.db.query('UPDATE accounts SET balance = balance + 1, updated_at = NOW(6) WHERE id % 7 = ?', [
          workload.changes % 7,
        ]);
        workload.changes += Math.ceil(workload.ids.length / 7);
        for (let i = 0; i < 20; i++) await workload.randomChange();
        await workload.transaction(5);
        await scenario.db.query('DELETE FROM accounts WHERE id IN (?)', [workload.ids.splice(0, 40)]);
        workload.changes += 40;
        await new Promise((r) => setTimeout(r, 600)); // spread the load so kills land mid-stream
      }
      loading = false;
    })();

    // Kill while the load runs, and once more after it, each time at a random moment.
    while (loading || kills < killsDuringLoad + 2) {
      await new Promise((r) => setTimeout(r, 500 + chaos.int(2000)));
      await worker.stop('SIGKILL');
      kills++;
      if (loading) killsDuringLoad++;
      worker = await scenario.startWorker(mapping, env);
    }
    await load;

    const items = await scenario.expectConverged(mapping, ACCOUNTS_SELECT, decodeAccount, 240_000);
    const redelivered = countRedeliveries(scenario.allOutput());
    console.log(
      `crash recovery: ${workload.changes} changes, ${kills} SIGKILLs (${killsDuringLoad} during the load), ${items} items exact, ${redelivered.redelivered} of ${redelivered.processed} processed messages were delivered more than once`,
    );
    expect(workload.changes).toBeGreaterThanOrEqual(TARGET_CHANGES);
    expect(killsDuringLoad).toBeGreaterThanOrEqual(3);
  }, 600_000);
});

/** From the workers' "chunk received" debug lines: messages handed to the pipeline more than once. */
function countRedeliveries(output: string) {
  const seen = new Map<string, number>();
  let processed = 0;
  for (const line of output.split('\n')) {
    if (!line.includes('"chunk received"')) continue;
    const { partition, first, last } = JSON.parse(line) as { partition: number; first: string; last: string };
    for (let offset = Number(first); offset <= Number(last); offset++) {
      const key = `${partition}:${offset}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      processed++;
    }
  }
  return { processed, redelivered: [...seen.values()].filter((n) => n > 1).length };
}
