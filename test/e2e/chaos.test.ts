import { DEFAULT_RATE, reportTable, runNemesis } from '../chaos/chaos';
import { NEMESES } from '../chaos/nemeses';
import type { NemesisReport } from '../chaos/trial';

/**
 * `npm run chaos -- --short`, one nemesis per test: each fault injected during real load, then
 * nothing lost, nothing dead-lettered, and ferry verify agreeing with an independent scan.
 */
describe('e2e > chaos (short)', () => {
  const reports: NemesisReport[] = [];
  afterAll(() => {
    if (reports.length) console.log(`chaos --short, seed 42\n${reportTable(reports)}`);
  });

  it.each(NEMESES.map((n) => n.name))(
    '%s: the end state is exact and verify agrees',
    async (name) => {
      const report = await runNemesis(name, {
        short: true,
        seed: 42,
        rate: DEFAULT_RATE,
        log: () => undefined,
      });
      reports.push(report);
      expect(report.failures).toEqual([]);
      expect(report).toMatchObject({ deadLetters: 0, divergent: 0, verifyExit: 0, verifyAgreed: true });
      expect(report.faults).toBeGreaterThan(0);
    },
    900_000,
  );
});
