import { Scenario } from '../support/scenario';
import {
  ACCOUNTS_SELECT,
  accountsMapping,
  decodeAccount,
  startAccounts,
  accountsMappingThrowingOnPoison,
} from '../support/accounts-workload';
import { loadConfig } from '../../src/config/config';
import { loadMapping } from '../../src/mapping/load-mapping';
import { redriveDeadLetters } from '../../src/pipeline/redrive';
import { runFerry } from '../support/cli';
import { kafka, readTopic, scanAll, waitFor } from '../support/stack';
import { DLQ_HEADERS } from '../../src/pipeline/dead-letters';

/** Guarantee 4: poison goes to the dead-letter topic with its origin and error; everything else is written. */
describe('e2e > poison messages', () => {
  const scenario = new Scenario();

  beforeAll(async () => {
    await startAccounts(scenario, 20);
  }, 180_000);

  afterAll(() => scenario.tearDown());

  it('dead-letters undecodable messages and rows the mapping throws on, and keeps going', async () => {
    const name = `accounts-${scenario.id}`;
    const throwing = accountsMappingThrowingOnPoison(name);
    const mapping = scenario.writeMapping('accounts.ts', throwing);
    await scenario.startWorker(mapping);

    const producer = kafka().producer();
    await producer.connect();
    const sent = await producer.send({
      topic: scenario.topic(),
      messages: [
        { key: 'k1', value: '{"schema":{"type":"struct"},"payload":{"op":"c"' },
        { key: 'k2', value: 'not json at all' },
      ],
    });
    await producer.disconnect();
    await scenario.db.query(`INSERT INTO accounts VALUES
      (1001, 'poison1@example.com', 'free', 1.00, NOW(6)), (1002, 'fine@example.com', 'pro', 2.00, NOW(6)),
      (1003, 'poison2@example.com', 'team', 3.00, NOW(6))`);
    await scenario.db.query(`UPDATE accounts SET balance = 99.99 WHERE id = 1002`);

    const healthy = `${ACCOUNTS_SELECT} WHERE email NOT LIKE 'poison%'`;
    await scenario.expectConverged(mapping, healthy, decodeAccount);

    const letters = await readTopic(`${scenario.connector?.prefix}.dlq.${name}`, 4);
    const headers = letters.map((m) =>
      Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
    );
    const byClass = (cls: string) => headers.filter((h) => h[DLQ_HEADERS.errorClass] === cls);
    expect(byClass('DecodeError')).toHaveLength(2);
    expect(
      byClass('MappingError')
        .map((h) => h[DLQ_HEADERS.errorMessage])
        .sort(),
    ).toEqual([
      expect.stringContaining('cannot map poison1@example.com'),
      expect.stringContaining('cannot map poison2@example.com'),
    ]);
    for (const h of headers) {
      expect(h).toMatchObject({ [DLQ_HEADERS.topic]: scenario.topic(), [DLQ_HEADERS.mapping]: name });
      expect(h[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
      expect(Date.parse(h[DLQ_HEADERS.failedAt] as string)).not.toBeNaN();
    }
    const malformed = headers.find(
      (h) => h[DLQ_HEADERS.offset] === sent[0]?.baseOffset && h[DLQ_HEADERS.partition] === String(sent[0]?.partition),
    );
    expect(malformed?.[DLQ_HEADERS.errorMessage]).toMatch(/malformed JSON/);
    expect(letters.map((m) => m.value?.toString())).toContain('not json at all');
  }, 300_000);

  it('redrives the letters after a fix, and a row deleted meanwhile stays deleted', async () => {
    const name = `accounts-${scenario.id}`;
    // The worker still runs the throwing mapping: both updates become letters, then the row is deleted.
    await scenario.db.query(`INSERT INTO accounts VALUES (2001, 'fine2@example.com', 'free', 1.00, NOW(6))`);
    const account = { pk: 'ACCOUNT#2001', sk: 'PROFILE' };
    await waitFor('the inserted row', async () => (await scanAll(scenario.table)).some((i) => i.pk === account.pk));
    await scenario.db.query(`UPDATE accounts SET email = 'poison3@example.com' WHERE id = 2001`);
    await scenario.db.query(`UPDATE accounts SET email = 'fine3@example.com' WHERE id = 2001`);
    await scenario.db.query(`DELETE FROM accounts WHERE id = 2001`);
    await readTopic(`${scenario.connector?.prefix}.dlq.${name}`, 6);
    await waitFor('the delete', async () => !(await scanAll(scenario.table)).some((i) => i.pk === account.pk));
    const fixed = scenario.writeMapping('accounts-fixed.ts', accountsMapping(name));

    scenario.configureCli();
    const { code, out, err } = await runFerry('dlq', 'redrive', '--mapping', fixed, '--json');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const report = JSON.parse(out) as Record<string, number>;
    expect(report).toMatchObject({ messages: 6, 'dead-lettered': 2, expired: 0 });
    // Everything the source holds, poison rows included; nothing of row 2001, which the letter predates.
    await scenario.expectConverged(fixed, ACCOUNTS_SELECT, decodeAccount);
  }, 300_000);

  it('stops a redrive that a missing table would block forever, naming the cause', async () => {
    const name = `accounts-${scenario.id}`;
    // The same mapping, pointed at a table that does not exist.
    const path = scenario.writeMapping(
      'accounts-elsewhere.ts',
      accountsMapping(name),
      'accounts',
      `${scenario.table}-missing`,
    );
    scenario.configureCli();
    const redriving = redriveDeadLetters(kafka(), loadConfig(), await loadMapping(path), `ferry.${name}.elsewhere`, {
      dryRun: false,
      blockedLimitMs: 2000,
    });
    await expect(redriving).rejects.toThrow(/redrive stopped at dead letter .*ResourceNotFoundException/);
  }, 120_000);
});
