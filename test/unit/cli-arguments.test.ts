import fc from 'fast-check';
import { decimal, instant, resetTarget, wholeNumber } from '../../src/cli/arguments';
import { main } from '../../src/cli';
import { ConfigError } from '../../src/core/errors';

/** The error a parser throws, or undefined when it accepts the text. */
const refusal = (parse: () => unknown): ConfigError | undefined => {
  try {
    parse();
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err;
  }
};

/** Text an operator might type where a number belongs: digits, signs, units, spaces, exponents. */
const numberish = fc.oneof(
  fc.string(),
  fc.stringMatching(/^[-+ ]?[0-9]{0,4}([.,][0-9]{0,3})?([eE][-+]?[0-9]{1,3})?(%| |s|ms|x)?$/),
  fc.constantFrom('NaN', 'Infinity', '0x10', '1_000', '١٢', '', ' 5', '5 ', '-0', '.5', '5.', '1e400'),
);

describe('cli > arguments', () => {
  it('a whole number is read exactly as typed, or refused naming the option and its range', () => {
    fc.assert(
      fc.property(numberish, fc.nat(100), fc.nat(1000), (text, min, span) => {
        const max = min + span;
        const err = refusal(() => wholeNumber('--limit', text, min, max));
        const exact = /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max;
        if (exact) expect(wholeNumber('--limit', text, min, max)).toBe(Number(text));
        else expect(err?.message).toBe(`--limit "${text}" is not a whole number from ${min} to ${max}`);
      }),
    );
  });

  it('a decimal is the number its whole text spells, never a prefix of it: "1%" is not 1, "5abc" is not 5', () => {
    fc.assert(
      fc.property(numberish, (text) => {
        const err = refusal(() => decimal('--max-divergence', text, 0, 1, 'a ratio'));
        const spelled = /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : NaN;
        if (spelled >= 0 && spelled <= 1) expect(decimal('--max-divergence', text, 0, 1, 'a ratio')).toBe(spelled);
        else expect(err?.message).toBe(`--max-divergence "${text}" is not a ratio from 0 to 1`);
      }),
    );
    expect(refusal(() => decimal('--max-divergence', '1%', 0, 1))).toBeDefined();
  });

  it('an instant with a zone is the moment it names, in any offset, to the millisecond', () => {
    const offsets = fc.integer({ min: -14 * 60, max: 14 * 60 }).map((m) => m - (m % 15));
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }),
        offsets,
        (at, offsetMinutes) => {
          // The same moment written in another zone: local wall time plus the offset.
          const wall = new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const abs = Math.abs(offsetMinutes);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          if (!/^\d{4}-/.test(wall)) return; // outside four-digit years once shifted
          expect(instant('--to', `${wall}${zone}`).getTime()).toBe(at.getTime());
          expect(instant('--to', `${at.toISOString()}`).getTime()).toBe(at.getTime());
          // To the minute, as a browser's datetime field writes it.
          const minute = Math.floor(at.getTime() / 60_000) * 60_000;
          expect(instant('--to', `${wall.slice(0, 16)}${zone}`).getTime()).toBe(minute);
        },
      ),
    );
  });

  it('a day the calendar lacks is refused, not rolled into the next month', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 29, max: 31 }),
        (year, month, day) => {
          const y = String(year).padStart(4, '0');
          const m = String(month).padStart(2, '0');
          const text = `${y}-${m}-${day}T00:00:00Z`;
          // Date.UTC rolls a missing day over: the month changes exactly when the day does not exist.
          const exists = new Date(Date.UTC(2000, month - 1, day)).getUTCMonth() === month - 1;
          const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
          const real = month === 2 && day === 29 ? leap : exists;
          const err = refusal(() => instant('--to', text));
          if (real) expect(instant('--to', text).toISOString().slice(0, 10)).toBe(`${y}-${m}-${day}`);
          else expect(err?.message).toMatch(/is not an ISO-8601 date or time of the calendar/);
        },
      ),
    );
  });

  it('a time without a zone is refused, saying how to give one', () => {
    expect(refusal(() => instant('--to', '2026-12-06T12:00:00'))?.message).toBe(
      '--to "2026-12-06T12:00:00" has no time zone: add Z for UTC or an offset such as +02:00 (2026-12-06T12:00:00Z)',
    );
    expect(refusal(() => instant('--from', '2026-12-06 12:00'))?.message).toMatch(/has no time zone/);
    expect(instant('--to', '2026-12-06').toISOString()).toBe('2026-12-06T00:00:00.000Z');
  });

  it('a reset target names the option, takes only the forms the option allows and each partition once', () => {
    expect(resetTarget('--to', '0=42,3=100')).toEqual({
      kind: 'offsets',
      offsets: new Map([
        [0, '42'],
        [3, '100'],
      ]),
    });
    expect(refusal(() => resetTarget('--to', '0=42,0=50'))?.message).toBe('--to "0=42,0=50" names partition 0 twice');
    expect(refusal(() => resetTarget('--from', 'latest', ['earliest', 'time']))?.message).toBe(
      '--from "latest" is not earliest or an ISO-8601 date or time (2024-05-01T12:00:00Z)',
    );
    expect(refusal(() => resetTarget('--to', 'yesterday'))?.message).toBe(
      '--to "yesterday" is not earliest, latest, an ISO-8601 date or time (2024-05-01T12:00:00Z) or partition=offset pairs (0=42,3=100)',
    );
  });

  it('each command refuses a value it cannot read exactly, exit 2, before reaching Kafka, the source or DynamoDB', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['verify', '-m', 'customers', '--max-divergence', '1%'],
        /--max-divergence "1%" is not a ratio from 0 to 1 \(0\.01 is 1%\)/,
      ],
      [['verify', '-m', 'customers', '--sample', '5abc'], /--sample "5abc" is not a percent from 0 to 100/],
      [['verify', '-m', 'customers', '--sample', '0'], /--sample 0 checks nothing/],
      [['verify', '-m', 'customers', '--segments', '1e3'], /--segments "1e3" is not a whole number from 1 to 1000000/],
      [
        ['offsets', 'reset', '-m', 'customers', '--to', '2026-02-30T00:00:00Z'],
        /--to "2026-02-30T00:00:00Z" is not an ISO-8601/,
      ],
      [['rebuild', '-m', 'customers', '--from', 'latest'], /--from "latest" is not earliest or an ISO-8601/],
      [['rebuild', '-m', 'customers', '--within-seconds', '-1'], /--within-seconds "-1" is not a whole number/],
      [['dlq', 'show', '-m', 'customers', '-n', '0'], /--limit "0" is not a whole number from 1 up/],
      [['mapping', 'diff', '-m', 'customers', '--new', 'x.ts', '-n', 'all'], /--examples "all" is not a whole number/],
      [
        ['topic', 'repartition', '-m', 'customers', '--partitions', '24.0'],
        /--partitions "24.0" is not a whole number/,
      ],
      [['console', '--port', '0x50'], /--port "0x50" is not a whole number from 0 to 65535/],
    ];
    const errors: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((text) => {
      errors.push(String(text));
      return true;
    });
    // Unreachable on purpose: a command that connected before reading its arguments would fail otherwise.
    const env = { ...process.env };
    Object.assign(process.env, {
      FERRY_KAFKA_BROKERS: '127.0.0.1:1',
      FERRY_DYNAMODB_ENDPOINT: 'http://127.0.0.1:1',
      FERRY_SOURCE_URL: 'mysql://ferry@127.0.0.1:1/inventory',
    });
    try {
      for (const [argv, message] of cases) {
        errors.length = 0;
        expect([argv.join(' '), await main(['node', 'ferry', ...argv])]).toEqual([argv.join(' '), 2]);
        expect(errors.join('')).toMatch(message);
      }
    } finally {
      write.mockRestore();
      process.env = env;
    }
  });
});
