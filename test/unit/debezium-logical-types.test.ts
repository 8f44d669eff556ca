/**
 * The decoding rules that the captured fixtures (debezium-decoding.test.ts) showed were needed,
 * pinned down on their own.
 */
import { DecodeError } from '../../src/core/errors';
import { toConnect } from '../../src/source/debezium/avro-decoder';
import {
  fixedFloat,
  isoZonedTimestamp,
  mysqlFloat,
  rowDecoder,
  valueDecoder,
} from '../../src/source/debezium/logical-types';
import { rowSchemaOf } from '../../src/source/debezium/row-schema';

describe('source > debezium > logical types seen in real messages', () => {
  it('renders a TIMESTAMP with six fractional digits, however Debezium trimmed it', () => {
    // Snapshot reads trim trailing zeros; streamed changes pad to the column's width.
    expect(isoZonedTimestamp('2024-03-01T13:45:00.12Z')).toBe('2024-03-01T13:45:00.120000Z');
    expect(isoZonedTimestamp('2024-03-01T13:45:00.120000Z')).toBe('2024-03-01T13:45:00.120000Z');
    expect(isoZonedTimestamp('1970-01-01T00:00:01Z')).toBe('1970-01-01T00:00:01.000000Z');
    expect(isoZonedTimestamp('2024-03-01T13:45:00.123456789Z')).toBe('2024-03-01T13:45:00.123456789Z');
    expect(isoZonedTimestamp('2024-03-01T01:00:00.5+02:00')).toBe('2024-02-29T23:00:00.500000Z');
    // Text order is time order once the width is fixed ('Z' sorts after '.').
    expect(isoZonedTimestamp('2024-03-01T13:45:00Z') < isoZonedTimestamp('2024-03-01T13:45:00.5Z')).toBe(true);
    expect(() => isoZonedTimestamp('yesterday', 'c_ts')).toThrow(DecodeError);
    expect(() => isoZonedTimestamp('yesterday', 'c_ts')).toThrow(/column c_ts/);
  });

  it('gives a FLOAT the six significant digits MariaDB shows, whether read in a snapshot or streamed', () => {
    // Streamed: the exact 32-bit value. Snapshot: the server's text, read by JDBC into a float (Java prints 3.41482013E11).
    expect(mysqlFloat(Math.fround(3.4148237e11))).toBe(3.41482e11);
    expect(mysqlFloat(3.41482013e11)).toBe(3.41482e11);
    expect(mysqlFloat(Math.fround(3.4028234e38))).toBe(3.40282e38);
    expect(mysqlFloat(Math.fround(0.00007222447))).toBe(0.0000722245);
    expect(mysqlFloat(Math.fround(2.94e-44))).toBe(2.94273e-44);
    expect(mysqlFloat(Math.fround(3.14))).toBe(3.14);
    expect(mysqlFloat(-1.5)).toBe(-1.5);
    // An exact tie at the seventh digit goes to the even digit, as MariaDB printed them (integration/mariadb-float).
    expect(mysqlFloat(-327490.5)).toBe(-327490);
    expect(mysqlFloat(-636930.5)).toBe(-636930);
    expect(mysqlFloat(327491.5)).toBe(327492);
    expect(mysqlFloat(12345650)).toBe(12345600);
    expect(valueDecoder({ type: 'float32' })(Math.fround(0.1))).toBe(0.1);
    // JsonConverter names FLOAT32 "float".
    expect(valueDecoder({ type: 'float' })(3.41482013e11)).toBe(3.41482e11);
  });

  // The schemas as Debezium 3.4 sent them for a table created after the connector started (bool_probe on the local stack).
  const source = (type: string, more: Record<string, string> = {}) => ({
    '__debezium.source.column.type': type,
    ...Object.fromEntries(Object.entries(more).map(([k, v]) => [`__debezium.source.column.${k}`, v])),
  });

  it('gives a column declared BOOLEAN or BOOL 1 or 0, as a snapshot reads its TINYINT(1); BIT(1) stays boolean', () => {
    for (const type of ['BOOLEAN', 'BOOL']) {
      const decode = valueDecoder({ type: 'boolean', parameters: source(type) });
      expect(decode(true)).toBe(1);
      expect(decode(false)).toBe(0);
    }
    expect(valueDecoder({ type: 'boolean', parameters: source('BIT', { length: '1' }) })(true)).toBe(true);
    // Without the source type (a connector without ferry's settings) nothing tells them apart.
    expect(valueDecoder({ type: 'boolean' })(true)).toBe(true);
  });

  it('gives FLOAT(M,D) its D decimals and FLOAT(p) what its storage holds, as the server shows them', () => {
    // FLOAT(10,3): the server stored 0.1 as the 32-bit 0.10000000149011612 and shows 0.100.
    const fixed = valueDecoder({ type: 'double', parameters: source('FLOAT', { length: '10', scale: '3' }) });
    expect(fixed(0.10000000149011612)).toBe(0.1);
    expect(fixed(1234567.125)).toBe(1234567.125);
    expect(fixed(-0.06199999898672104)).toBe(-0.062);
    expect(fixed(10000000)).toBe(10000000);
    // Exact ties go to the even digit, as MariaDB showed these (probed on the local stack).
    expect(fixed(524288.0625)).toBe(524288.062);
    expect(fixed(-524288.0625)).toBe(-524288.062);
    expect(fixed(524288.1875)).toBe(524288.188);
    expect(fixed(262144.03125)).toBe(262144.031);
    expect(fixedFloat(2.5, 0)).toBe(2);
    expect(fixedFloat(3.5, 0)).toBe(4);
    // FLOAT(10,3) UNSIGNED, as Debezium names it.
    const unsigned = valueDecoder({
      type: 'double',
      parameters: source('FLOAT UNSIGNED', { length: '10', scale: '3' }),
    });
    expect(unsigned(0.10000000149011612)).toBe(0.1);
    const none = valueDecoder({ type: 'double', parameters: source('FLOAT', { length: '5', scale: '0' }) });
    expect(none(-3)).toBe(-3);
    // FLOAT(10) is a FLOAT; FLOAT(30) a DOUBLE.
    expect(valueDecoder({ type: 'double', parameters: source('FLOAT', { length: '10' }) })(1234567.125)).toBe(1234570);
    expect(valueDecoder({ type: 'double', parameters: source('FLOAT', { length: '30' }) })(1234567.125)).toBe(
      1234567.125,
    );
    // A DOUBLE, and a double without its source type, are exact.
    expect(valueDecoder({ type: 'double', parameters: source('DOUBLE') })(0.10000000149011612)).toBe(
      0.10000000149011612,
    );
    expect(valueDecoder({ type: 'double' })(0.10000000149011612)).toBe(0.10000000149011612);
  });

  it("reads MySQL's zero TIMESTAMP (sent as the epoch, which no real TIMESTAMP can be) as NULL", () => {
    const decode = valueDecoder({ type: 'string', name: 'io.debezium.time.ZonedTimestamp', field: 'ts' });
    expect(decode('1970-01-01T00:00:00Z')).toBeNull();
    expect(decode('1970-01-01T00:00:00.000000Z')).toBeNull();
    expect(decode('1970-01-01T00:00:01Z')).toBe('1970-01-01T00:00:01.000000Z');
  });

  it('reads BIGINT UNSIGNED exactly when Debezium names the source type', () => {
    const parameters = { '__debezium.source.column.type': 'BIGINT UNSIGNED' };
    // bigint.unsigned.handling.mode=long: two's complement.
    const long = valueDecoder({ type: 'int64', field: 'u', parameters });
    expect(long(-1)).toBe(18446744073709551615n);
    expect(long(-9223372036854775808n)).toBe(9223372036854775808n);
    expect(long(42)).toBe(42);
    // bigint.unsigned.handling.mode=precise: a Decimal of scale 0.
    const precise = valueDecoder({
      type: 'bytes',
      name: 'org.apache.kafka.connect.data.Decimal',
      field: 'u',
      parameters: { scale: '0', 'connect.decimal.precision': '20', ...parameters },
    });
    expect(precise(Buffer.from('00ffffffffffffffff', 'hex').toString('base64'))).toBe(18446744073709551615n);
    expect(precise(Buffer.from('00', 'hex'))).toBe(0);
    // Without the source type, int64 stays signed (Debezium's data is all there is).
    expect(valueDecoder({ type: 'int64' })(-1)).toBe(-1);
  });

  it('keeps a JSON column as its exact text, whichever way Debezium marked it', () => {
    const text = '{"big": 12345678901234567890, "neg": -9223372036854775809, "n": 42, "f": 1.5}';
    expect(valueDecoder({ type: 'string', name: 'io.debezium.data.Json', field: 'doc' })(text)).toBe(text);
    expect(valueDecoder({ type: 'string', field: 'doc' })(text)).toBe(text);
  });

  it('resolves an Avro record referenced by name (a second geometry column)', () => {
    const geometry = {
      type: 'record',
      name: 'Geometry',
      namespace: 'io.debezium.data.geometry',
      fields: [
        { name: 'wkb', type: 'bytes' },
        { name: 'srid', type: ['null', 'int'], default: null },
      ],
      'connect.name': 'io.debezium.data.geometry.Geometry',
    };
    const value = toConnect({
      type: 'record',
      name: 'Value',
      namespace: 'p.db.t',
      fields: [
        { name: 'g1', type: ['null', geometry] },
        { name: 'g2', type: ['null', 'io.debezium.data.geometry.Geometry'] },
      ],
    });
    const [g1, g2] = value.fields ?? [];
    expect(g2).toEqual({ ...g1, field: 'g2' });
    expect(g2?.name).toBe('io.debezium.data.geometry.Geometry');
    const row = valueDecoder(value)({ g1: null, g2: { wkb: Buffer.from([1]), srid: null } });
    expect(row).toEqual({ g1: null, g2: { srid: null, wkb: Buffer.from([1]) } });
  });

  it('names a row column by the source column an Avro field carries (seen: `order-ref` as field `order_ref`)', () => {
    // The field as the local stack's Avro connector wrote it, its source type propagated.
    const value = toConnect({
      type: 'record',
      name: 'Value',
      namespace: 'p.db.t',
      fields: [
        { name: 'id', type: 'int' },
        {
          name: 'order_ref',
          type: {
            type: 'string',
            'connect.parameters': {
              '__debezium.source.column.type': 'VARCHAR',
              '__debezium.source.column.length': '10',
              '__debezium.source.column.name': 'order-ref',
            },
          },
        },
      ],
    });
    expect(rowDecoder(value)({ id: 1, order_ref: 'R-1' })).toEqual({ id: 1, 'order-ref': 'R-1' });
    expect(rowSchemaOf(value).columns.map((c) => c.name)).toEqual(['id', 'order-ref']);
  });

  it("keeps a column named __proto__ as the row's own property (assigned, it would set the prototype)", () => {
    const value = toConnect({
      type: 'record',
      name: 'Value',
      fields: [
        { name: 'id', type: 'int' },
        { name: '__proto__', type: ['null', 'string'] },
      ],
    });
    const row = rowDecoder(value)(JSON.parse('{"id": 1, "__proto__": "p"}'));
    expect(Object.entries(row)).toEqual([
      ['id', 1],
      ['__proto__', 'p'],
    ]);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  it("reads a streamed ENUM or SET value as the option it names: Debezium leaves the DDL literal's escapes in and escapes commas", () => {
    // As the local stack's connector sent them for ENUM('x\\y','a,b',',','\\','q''t','c\nd','g\%h','o\qp') in SQL.
    const allowed = "x\\\\y,a\\,b,\\,,\\\\,q't,c\\nd,g\\%h,o\\qp";
    const option = valueDecoder({ type: 'string', name: 'io.debezium.data.Enum', parameters: { allowed } });
    const streamed = ['x\\\\y', 'a\\,b', '\\,', '\\\\', "q't", 'c\\nd', 'g\\%h', 'o\\qp'];
    const exact = ['x\\y', 'a,b', ',', '\\', "q't", 'c\nd', 'g\\%h', 'oqp'];
    expect(streamed.map(option)).toEqual(exact);
    // A snapshot reads the values themselves.
    expect(exact.map(option)).toEqual(exact);
    const set = valueDecoder({
      type: 'string',
      name: 'io.debezium.data.EnumSet',
      parameters: { allowed: "p\\\\q,r's,t" },
    });
    expect([set('p\\\\q,t'), set('p\\q,t'), set('')]).toEqual([['p\\q', 't'], ['p\\q', 't'], []]);
  });
});
