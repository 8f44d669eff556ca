import { valueRoundTrip } from '../support/value-round-trip';

/**
 * Generated rows of every column type, edges included, through the real connector and worker:
 * each change is written exactly or is a dead letter naming the column; verify agrees.
 * A failure prints its seed: FERRY_FUZZ_SEED=<seed> reruns the same rows (npm run fuzz runs longer).
 */
describe('e2e > values real tables hold', () => {
  const seed = Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 2 ** 31);
  it(`round-trips generated rows exactly, refusing only numbers DynamoDB cannot hold (seed ${seed})`, async () => {
    const report = await valueRoundTrip({ rows: 120, seed });
    for (const mode of ['error', 'string'] as const) {
      const m = report.modes[mode];
      expect({ mode, seed, mismatches: m.mismatches }).toEqual({ mode, seed, mismatches: [] });
      expect({ mode, seed, letters: m.letterMismatches }).toEqual({ mode, seed, letters: [] });
      expect({ mode, seed, verifyExamples: m.verifyExamples }).toEqual({ mode, seed, verifyExamples: [] });
      expect({ mode, seed, verify: m.verify }).toEqual({
        mode,
        seed,
        verify: { code: mode === 'string' ? 0 : m.verify.code, ...m.expectedVerify },
      });
      expect(m.blockedPartitions).toBe(0);
    }
    // Kept as text, nothing is refused: verify finds zero divergence.
    expect(report.modes.string.deadLetters).toBe(0);
  }, 300_000);
});
