import fc from 'fast-check';
import { runsOf } from '../../src/core/runs';
import { certificateProblem } from '../../src/core/tls-errors';

describe('runsOf', () => {
  it('keeps every item in order, each run within the limit unless one item alone exceeds it', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 })), fc.integer({ min: 1, max: 60 }), (items, limit) => {
        const runs = runsOf(items, limit, (s) => s.length);
        expect(runs.flat()).toEqual(items);
        for (const run of runs) {
          expect(run.length).toBeGreaterThan(0);
          const total = run.reduce((n, s) => n + s.length, 0);
          if (run.length > 1) expect(total).toBeLessThanOrEqual(limit);
        }
        // Greedy: no run could have taken the next run's first item.
        runs.slice(1).forEach((run, i) => {
          const before = (runs[i] as string[]).reduce((n, s) => n + s.length, 0);
          expect(before + (run[0] as string).length).toBeGreaterThan(limit);
        });
      }),
    );
  });
});

describe('certificateProblem', () => {
  it.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', 'untrusted'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'untrusted'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'invalid'],
    ['CERT_HAS_EXPIRED', 'invalid'],
    ['ECONNREFUSED', undefined],
    [undefined, undefined],
  ])('%s: %s', (code, problem) => {
    expect(certificateProblem(code)).toBe(problem);
  });
});
