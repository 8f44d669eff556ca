import fc from 'fast-check';
import { formatDecimal, isoDate, isoDateTime, isoTime, valueDecoder } from '../../src/source/debezium/logical-types';

/** The time of day in BigInt arithmetic, exact at any size: the reference for isoTime. */
function referenceTime(nanosSinceMidnight: bigint, digits: number): string {
  const pad = (value: bigint, width: number) => value.toString().padStart(width, '0');
  const abs = nanosSinceMidnight < 0n ? -nanosSinceMidnight : nanosSinceMidnight;
  const seconds = abs / 1_000_000_000n;
  const fraction = digits === 0 ? '' : `.${pad(abs % 1_000_000_000n, 9).slice(0, digits)}`;
  return `${nanosSinceMidnight < 0n ? '-' : ''}${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}${fraction}`;
}

describe('source > debezium > logical types', () => {
  it('formats decimals from unscaled values without float rounding', () => {
    expect(formatDecimal(12345n, 2)).toBe('123.45');
    expect(formatDecimal(-5n, 3)).toBe('-0.005');
    expect(formatDecimal(0n, 2)).toBe('0.00');
    expect(formatDecimal(7n, 0)).toBe('7');
    expect(formatDecimal(123456789012345678901234567890123456789n, 10)).toBe(
      '12345678901234567890123456789.0123456789',
    );
  });

  it("decodes a Connect Decimal from big-endian two's complement bytes", () => {
    const decode = valueDecoder({
      type: 'bytes',
      name: 'org.apache.kafka.connect.data.Decimal',
      parameters: { scale: '2' },
    });
    expect(String(decode(Buffer.from([0x30, 0x39]).toString('base64')))).toBe('123.45');
    expect(String(decode(Buffer.from([0xcf, 0xc7]).toString('base64')))).toBe('-123.45');
  });

  it('decodes a decimal of any precision exactly (whether DynamoDB can hold it is decided later)', () => {
    const decode = valueDecoder({
      type: 'bytes',
      name: 'org.apache.kafka.connect.data.Decimal',
      field: 'amount',
      parameters: { scale: '0' },
    });
    const fortyDigits = 10n ** 39n + 1n;
    const bytes = Buffer.from(fortyDigits.toString(16).padStart(34, '0'), 'hex');
    expect(String(decode(bytes))).toBe(fortyDigits.toString());
  });

  it('renders temporals as ISO-8601 text at full precision', () => {
    expect(isoDate(0)).toBe('1970-01-01');
    expect(isoDate(-1)).toBe('1969-12-31');
    expect(isoTime(49_500_123_456_000n, 6)).toBe('13:45:00.123456');
    expect(isoTime(-3_600_000_000_000n, 0)).toBe('-01:00:00');
    expect(isoTime(838n * 3_600_000_000_000n, 0)).toBe('838:00:00');
    expect(isoDateTime(1_709_300_700_123_456_000n, 6)).toBe('2024-03-01T13:45:00.123456');
    expect(isoDateTime(-1_000_000n, 6)).toBe('1969-12-31T23:59:59.999000');
  });

  it('renders every TIME and every DATETIME as exact BigInt arithmetic does', () => {
    const maxTime = (838n * 3600n + 59n * 60n + 59n) * 1_000_000_000n + 999_999_999n;
    const digits = fc.integer({ min: 0, max: 9 });
    fc.assert(
      fc.property(fc.bigInt(-maxTime, maxTime), digits, (nanos, d) => {
        expect(isoTime(nanos, d)).toBe(referenceTime(nanos, d));
      }),
      { numRuns: 2000 },
    );
    expect(() => isoTime(2n ** 53n, 6)).toThrow('unexpected time');
    // Years 1000 to 9999, at whole seconds and at the edges of each second too.
    const nanosPerDay = 86_400_000_000_000n;
    fc.assert(
      fc.property(
        fc.bigInt(-354_285n * nanosPerDay, 2_932_896n * nanosPerDay),
        fc.constantFrom(0n, 1n, 999_999_999n),
        digits,
        (nanos, edge, d) => {
          const at = (nanos / 1_000_000_000n) * 1_000_000_000n + edge;
          const days = at / nanosPerDay - (at % nanosPerDay < 0n ? 1n : 0n);
          const rest = at - days * nanosPerDay;
          expect(isoDateTime(at, d)).toBe(`${isoDate(Number(days))}T${referenceTime(rest, d)}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes BIGINT beyond 2^53 as bigint, SET as a list, BIT(n) as bigint', () => {
    expect(valueDecoder({ type: 'int64' })(9007199254740993n)).toBe(9007199254740993n);
    expect(valueDecoder({ type: 'int64' })(42)).toBe(42);
    expect(valueDecoder({ type: 'string', name: 'io.debezium.data.EnumSet' })('a,c')).toEqual(['a', 'c']);
    expect(valueDecoder({ type: 'string', name: 'io.debezium.data.EnumSet' })('')).toEqual([]);
    expect(
      valueDecoder({ type: 'bytes', name: 'io.debezium.data.Bits' })(Buffer.from([0x01, 0x02]).toString('base64')),
    ).toBe(513n);
  });
});
