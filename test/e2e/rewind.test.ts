import { Scenario } from '../support/scenario';
import { ACCOUNTS_SELECT, accountsMapping, decodeAccount, startAccounts } from '../support/accounts-workload';
import { kafka } from '../support/stack';
import { groupOffsets, resetGroupOffsets } from '../../src/source/kafka/offsets';

/** Guarantee 6: rewinding a group and running a fixed mapping converges the target to it. */
describe('e2e > rewind after a mapping change', () => {
  const scenario = new Scenario();
  const admin = kafka().admin();

  beforeAll(async () => {
    await admin.connect();
    const workload = await startAccounts(scenario, 100);
    for (let i = 0; i < 200; i++) await workload.randomChange();
  }, 180_000);

  afterAll(async () => {
    await admin.disconnect();
    await scenario.tearDown();
  });

  it('refuses to reset while the group has members, then rewinds to earliest and converges to the new mapping', async () => {
    const name = `accounts-${scenario.id}`;
    const group = `ferry.${name}`;
    const v1 = scenario.writeMapping('v1.ts', accountsMapping(name));
    const v2 = scenario.writeMapping(
      'v2.ts',
      accountsMapping(name, `, mappingVersion: 2, emailDomain: row.email.split('@')[1]`),
    );

    const worker = await scenario.startWorker(v1);
    await scenario.expectConverged(v1, ACCOUNTS_SELECT, decodeAccount);
    await expect(
      resetGroupOffsets(admin, group, scenario.topic(), { kind: 'earliest' }, { dryRun: true }),
    ).rejects.toThrow(new RegExp(`group ${group} has 1 active member\\(s\\): ferry@.*; stop its workers first`));
    expect(await worker.stop('SIGTERM')).toBe(0);

    const before = await groupOffsets(admin, group, scenario.topic());
    expect(before.every((p) => p.lag === 0)).toBe(true);
    const plan = await resetGroupOffsets(admin, group, scenario.topic(), { kind: 'earliest' }, { dryRun: false });
    expect(plan.some((p) => p.from !== p.to)).toBe(true);
    const after = await groupOffsets(admin, group, scenario.topic());
    expect(after.map((p) => p.committed ?? p.start)).toEqual(after.map((p) => p.start));

    await scenario.startWorker(v2);
    await scenario.expectConverged(v2, ACCOUNTS_SELECT, decodeAccount);
  }, 300_000);
});
