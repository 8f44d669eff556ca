import fc from 'fast-check';
import { ItemError } from '../../src/core/errors';
import {
  type ItemRules,
  canonicalNumber,
  itemSignature,
  prepareItem,
  prepareKey,
} from '../../src/mapping/prepare-item';
import { Decimal } from '../../src/source/debezium/logical-types';

const strict = { numberOverflow: 'error' as const };
const lenient = { numberOverflow: 'string' as const };
const KEY = { partitionKey: 'pk', sortKey: 'sk' };
const prepare = (value: unknown, rules: ItemRules = strict) => prepareItem({ a: value }, rules, KEY).a;

/** What DynamoDB can hold: 38 significant digits, magnitude in [1E-130, 1E+126). */
const holdable = (x: number) => x === 0 || (Math.abs(x) >= 1e-130 && Math.abs(x) < 1e126);

describe('mapping > prepare item', () => {
  it('writes every double DynamoDB can hold as its exact value, and refuses the rest naming the attribute', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), (x) => {
        if (Number.isFinite(x) && holdable(x)) {
          const n = (prepare(x) as { N: string }).N;
          // The shortest round-trip text, written out in plain digits: reads back as the same double.
          expect(Number(n)).toBe(x === 0 ? 0 : x);
          expect(n).toMatch(/^-?(0|[1-9]\d*)(\.\d*[1-9])?$|^-?0\.\d*[1-9]$/);
        } else {
          expect(() => prepare(x)).toThrow(ItemError);
          expect(() => prepare(x)).toThrow(`attribute "a": ${String(x)}`);
          expect(prepare(x, lenient)).toEqual({ S: String(x) });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps an attribute or a map key named __proto__ (assigned, it would set the prototype and be lost)', () => {
    // A column of that name arrives as the row's own property, as JSON.parse makes it.
    const item = JSON.parse('{"pk": "a", "__proto__": {"__proto__": 1}, "constructor": 2}') as Record<string, unknown>;
    expect(JSON.stringify(prepareItem(item, strict, KEY))).toBe(
      '{"pk":{"S":"a"},"__proto__":{"M":{"__proto__":{"N":"1"}}},"constructor":{"N":"2"}}',
    );
    expect(
      JSON.stringify(
        prepareKey(JSON.parse('{"pk": "a", "__proto__": "b"}'), { partitionKey: 'pk', sortKey: '__proto__' }),
      ),
    ).toBe('{"pk":{"S":"a"},"__proto__":{"S":"b"}}');
  });

  it('keeps integers of any size exact, up to 38 digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), (n) => {
        const digits = (n < 0n ? -n : n).toString().replace(/0+$/, '').length;
        if (digits <= 38) expect(prepare(n)).toEqual({ N: n.toString() });
        else expect(() => prepare(n)).toThrow(/significant digits/);
      }),
    );
  });

  it('writes decimals at full precision without insignificant zeros', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }),
        fc.nat({ max: 40 }),
        (unscaled, scale) => {
          const negative = unscaled < 0n;
          const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
          const text = `${negative ? '-' : ''}${scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`}`;
          const n = (prepare(Decimal.from(text)) as { N: string }).N;
          // Same value: compare as scaled integers.
          const [whole, fraction = ''] = n.replace('-', '').split('.');
          expect(BigInt(`${whole}${fraction.padEnd(scale, '0')}`) * (n.startsWith('-') ? -1n : 1n)).toBe(unscaled);
          expect(n).not.toMatch(/\.\d*0$|^-?0\d/);
        },
      ),
    );
  });

  it('gives every zero one form, and reads DynamoDB exponent forms', () => {
    for (const zero of [0, -0, 0n, Decimal.from('0.000'), Decimal.from('-0.0')])
      expect(prepare(zero)).toEqual({ N: '0' });
    expect(canonicalNumber('1E+125')).toEqual({ ok: true, text: `1${'0'.repeat(125)}` });
    expect(canonicalNumber('9.9999999999999999999999999999999999999E+125').ok).toBe(true);
    expect(canonicalNumber('1E+126').ok).toBe(false);
    expect(canonicalNumber('1E-130')).toEqual({ ok: true, text: `0.${'0'.repeat(129)}1` });
    expect(canonicalNumber('1E-131').ok).toBe(false);
    expect(canonicalNumber('00012.5000')).toEqual({ ok: true, text: '12.5' });
    expect(canonicalNumber('abc').ok).toBe(false);
  });

  it('never stores text in place of a number in a key, in a put as in a delete', () => {
    // Stored as text, a numeric key would be refused by the table as a key-type mismatch, which blocks.
    expect(() => prepareItem({ pk: 1e300, a: 1e300 }, lenient, KEY)).toThrow(/key attribute "pk": 1e\+300/);
    expect(prepareItem({ pk: 1, a: 1e300 }, lenient, KEY)).toEqual({ pk: { N: '1' }, a: { S: '1e+300' } });
    expect(() => prepareItem({ pk: 'p', sk: 'x'.repeat(1025) }, strict, KEY)).toThrow(
      /key attribute "sk" is 1025 bytes/,
    );
    expect(() => prepareKey({ pk: 1e300 }, KEY)).toThrow(/key attribute "pk": 1e\+300/);
    expect(() => prepareKey({ pk: '' }, KEY)).toThrow(/empty string/);
    expect(() => prepareKey({ pk: 'a', sk: 'x'.repeat(1025) }, KEY)).toThrow(/over 1024/);
    expect(prepareKey({ pk: 'a', sk: 2n ** 64n }, KEY)).toEqual({ pk: { S: 'a' }, sk: { N: '18446744073709551616' } });
  });

  it('checks numbers, nesting and size inside lists, maps and sets', () => {
    expect(() => prepare([1, { deep: [Infinity] }])).toThrow('attribute "a[1].deep[0]": Infinity');
    expect(() => prepare(new Set([1, NaN]))).toThrow(/a\[\]/);
    expect(() => prepare(new Set())).toThrow(/sets cannot be empty/);
    expect(() => prepare(new Set(['a', 1]))).toThrow(/one type/);
    expect(prepare(new Set([1, Decimal.from('1.0'), 2]))).toEqual({ NS: ['1', '2'] });
    // DynamoDB Local: 31 nested lists are stored, 32 are refused.
    const nested = (levels: number): unknown => (levels === 0 ? 1 : [nested(levels - 1)]);
    expect(prepare(nested(31))).toBeDefined();
    expect(() => prepare(nested(32))).toThrow(/nested beyond DynamoDB's 32 levels/);
    expect(() => prepareItem({ a: 'x'.repeat(400 * 1024) }, strict, KEY)).toThrow(/over DynamoDB's 409600-byte limit/);
    expect(() => prepare(new Date(0))).toThrow(/a Date cannot be stored \(store its toISOString/);
    expect(() => prepare(() => 1)).toThrow(/a function cannot be stored/);
  });

  it('leaves out undefined, keeps null, empty strings, empty binary and empty lists', () => {
    expect(prepareItem({ a: undefined, b: null, c: '', d: new Uint8Array(), e: [], f: {} }, strict, KEY)).toEqual({
      b: { NULL: true },
      c: { S: '' },
      d: { B: new Uint8Array() },
      e: { L: [] },
      f: { M: {} },
    });
  });

  it('compares items as DynamoDB does: numbers by value, sets in any order', () => {
    const a = prepareItem({ n: Decimal.from('1.50'), s: new Set(['x', 'y']), m: { b: 1, a: 2 } }, strict, KEY);
    const b = { n: { N: '1.5' }, s: { SS: ['y', 'x'] }, m: { M: { a: { N: '2' }, b: { N: '1' } } } };
    expect(itemSignature(a)).toBe(itemSignature(b));
    expect(itemSignature(a)).not.toBe(itemSignature({ ...b, n: { N: '1.51' } }));
    expect(itemSignature(a)).not.toBe(itemSignature({ ...b, n: { S: '1.5' } }));
  });
});
