import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { setOwn } from '../../core/own-property';
import { DecodeError } from '../../core/errors';

/**
 * Column values arrive decoded by one rule, driven by the Kafka Connect schema:
 * - exact numbers stay exact: DECIMAL -> Decimal (a DynamoDB Number, up to 38 digits),
 *   BIGINT -> number when it fits in 2^53, else bigint;
 * - temporals become ISO-8601 text: DATE '2024-03-01', TIME '13:45:00.123456' (may be negative
 *   or over 24h, as MySQL allows), DATETIME '2024-03-01T13:45:00.123' for DATETIME(0-3) and
 *   '2024-03-01T13:45:00.123456' for DATETIME(4-6) (no zone: MySQL stores none),
 *   TIMESTAMP '2024-03-01T13:45:00.123456Z' (UTC, always six fractional digits), YEAR -> number;
 * - JSON -> its text, ENUM -> string, SET -> string[], BIT(n>1) -> bigint, BIT(1) -> boolean,
 *   binary -> Uint8Array, geometry -> { srid, wkb } (plus x, y for points);
 * - FLOAT as the server shows it (mysqlFloat; FLOAT(M,D) to D decimals), BOOLEAN as 1 or 0 (see
 *   floatColumn and the boolean case: both need the source type, which ferry connector propagates).
 */
export type Decimal = NumberValue;
export const Decimal = NumberValue;

/** What a Kafka Connect schema says of one field (from the JSON envelope or an Avro schema). */
export interface ConnectSchema {
  type: string;
  name?: string;
  field?: string;
  optional?: boolean;
  parameters?: Record<string, string>;
  /** The column's default, when the connector carries one. */
  default?: unknown;
  fields?: ConnectSchema[];
  items?: ConnectSchema;
}

/** Raw values: JSON gives base64 text for bytes, Avro gives Buffers. */
type Raw = unknown;

const DECIMAL = 'org.apache.kafka.connect.data.Decimal';
/** Set by Debezium's `column.propagate.source.type` / `datatype.propagate.source.type`. */
const SOURCE_TYPE = '__debezium.source.column.type';
const UNSIGNED_BIGINT = /^BIGINT UNSIGNED\b/i;
const BOOLEAN_WORD = /^BOOL(EAN)?$/i;
const FLOAT_TYPE = /^FLOAT( UNSIGNED)?$/i;

export type ValueDecoder = (raw: Raw) => unknown;

/** What the connector that wrote a schema changes about decoding it. */
export interface SourceFlavor {
  /**
   * MySQL's JSON columns: Debezium's snapshot reads MySQL's text (a space after each ',' and ':')
   * and its binlog reader writes none, so ferry removes the whitespace outside strings from both.
   */
  compactJson?: boolean;
}

/** The flavor of the connector named by an envelope's source block (io.debezium.connector.<kind>.Source). */
export function flavorOf(envelope: ConnectSchema): SourceFlavor {
  const source = envelope.fields?.find((f) => f.field === 'source');
  return { compactJson: source?.name === 'io.debezium.connector.mysql.Source' };
}

/** JSON text without whitespace outside its strings: MySQL's two renderings of one value agree. */
export function compactJson(text: string): string {
  // The binlog reader's text has no whitespace outside strings, and mostly none at all: no walk.
  if (!/[ \n\r\t]/.test(text)) return text;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch !== ' ' && ch !== '\n' && ch !== '\r' && ch !== '\t') out += ch;
  }
  return out;
}

/** Builds, once per schema, a function that decodes a row struct. */
export function rowDecoder(schema: ConnectSchema, flavor: SourceFlavor = {}): (raw: Raw) => Record<string, unknown> {
  const fields = (schema.fields ?? []).map(
    (field) => [field.field as string, columnName(field), valueDecoder(field, flavor)] as const,
  );
  return (raw) => {
    const source = raw as Record<string, Raw>;
    const row: Record<string, unknown> = {};
    for (const [name, column, decode] of fields) {
      const value = source[name];
      setOwn(row, column, value === null || value === undefined ? null : decode(value));
    }
    return row;
  };
}

/** The schema parameter Debezium names a propagated column by. */
export const COLUMN_NAME = '__debezium.source.column.name';

/**
 * The source column a field carries. An Avro name holds only [A-Za-z0-9_] and starts with no
 * digit, so Debezium writes `order-ref` as field `order_ref`; a column whose source type it
 * propagates keeps its own name in a parameter, which `ferry connector` asks for (see
 * AVRO_RENAMED_COLUMNS): rows carry the column's name in every format.
 */
export const columnName = (field: ConnectSchema): string => field.parameters?.[COLUMN_NAME] ?? (field.field as string);

export function valueDecoder(schema: ConnectSchema, flavor: SourceFlavor = {}): ValueDecoder {
  const sourceType = schema.parameters?.[SOURCE_TYPE] ?? '';
  const unsignedBigint = UNSIGNED_BIGINT.test(sourceType);
  switch (schema.name) {
    case DECIMAL: {
      const scale = Number(schema.parameters?.scale ?? 0);
      // BIGINT UNSIGNED under bigint.unsigned.handling.mode=precise, when the source type says so.
      if (unsignedBigint && scale === 0) return (raw) => toSafeInteger(unscaled(toBytes(raw)));
      return (raw) => toDecimal(unscaled(toBytes(raw)), scale);
    }
    case 'io.debezium.data.VariableScaleDecimal':
      return (raw) => {
        const { scale, value } = raw as { scale: number; value: Raw };
        return toDecimal(unscaled(toBytes(value)), scale);
      };
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return (raw) => isoDate(raw instanceof Date ? Math.floor(raw.getTime() / 86_400_000) : Number(raw));
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return (raw) => isoTime(BigInt(raw instanceof Date ? raw.getTime() : (raw as number)) * 1_000_000n, 3);
    case 'io.debezium.time.MicroTime':
      return (raw) => isoTime(BigInt(raw as number) * 1000n, 6);
    case 'io.debezium.time.NanoTime':
      return (raw) => isoTime(BigInt(raw as number), 9);
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return (raw) => isoDateTime(BigInt(raw instanceof Date ? raw.getTime() : (raw as number)) * 1_000_000n, 3);
    case 'io.debezium.time.MicroTimestamp':
      return (raw) => isoDateTime(BigInt(raw as number) * 1000n, 6);
    case 'io.debezium.time.NanoTimestamp':
      return (raw) => isoDateTime(BigInt(raw as number), 9);
    case 'io.debezium.time.ZonedTimestamp':
      return (raw) =>
        ZERO_TIMESTAMP.test(String(raw)) ? null : isoZonedTimestamp(String(raw), schema.field ?? schema.name);
    case 'io.debezium.time.ZonedTime':
      return (raw) => String(raw);
    case 'io.debezium.data.Enum': {
      const option = enumOption(schema.parameters?.allowed);
      return (raw) => option(String(raw));
    }
    case 'io.debezium.time.Year':
      // A YEAR holds 1901-2155 or 0000; Debezium's binlog reader reads a streamed 0000 as 1900.
      return (raw) => (Number(raw) === 1900 ? 0 : Number(raw));
    case 'io.debezium.data.Json':
      // MariaDB's JSON is LONGTEXT: Debezium marks it JSON only sometimes, so JSON is always text.
      return flavor.compactJson ? (raw) => compactJson(String(raw)) : (raw) => String(raw);
    case 'io.debezium.data.EnumSet': {
      // A SET member holds no comma.
      const option = enumOption(schema.parameters?.allowed);
      return (raw) => (raw === '' ? [] : String(raw).split(',').map(option));
    }
    case 'io.debezium.data.Bits':
      return (raw) => littleEndianUnsigned(toBytes(raw));
    case 'io.debezium.data.geometry.Geometry':
    case 'io.debezium.data.geometry.Point': {
      return (raw) => {
        const { wkb, srid, x, y } = raw as { wkb: Raw; srid: number | null; x?: number; y?: number };
        return { srid: srid ?? null, wkb: toBytes(wkb), ...(x === undefined ? {} : { x, y }) };
      };
    }
  }
  switch (schema.type) {
    case 'int64':
      // BIGINT UNSIGNED under bigint.unsigned.handling.mode=long arrives as two's complement.
      if (unsignedBigint) return (raw) => toSafeInteger(unsignedLong(raw));
      return (raw) => toSafeInteger(raw);
    case 'float': // JsonConverter's name for FLOAT32
    case 'float32':
      return (raw) => mysqlFloat(raw as number);
    case 'double': // JsonConverter's name for FLOAT64
    case 'float64':
      return FLOAT_TYPE.test(sourceType) ? floatColumn(schema.parameters ?? {}) : (raw) => raw;
    case 'boolean':
      // BOOLEAN and BOOL are TINYINT(1). Debezium types them boolean only when it parsed the word in a
      // DDL statement (a snapshot reads SHOW CREATE TABLE, which says tinyint(1), and gets numbers):
      // 1 or 0 either way. (It has already made any other value true.) BIT(1) stays boolean.
      return BOOLEAN_WORD.test(sourceType) ? (raw) => (raw ? 1 : 0) : (raw) => raw;
    case 'bytes':
      return (raw) => toBytes(raw);
    case 'struct': {
      const decode = rowDecoder(schema, flavor);
      return (raw) => decode(raw);
    }
    case 'array': {
      const item = schema.items ? valueDecoder(schema.items, flavor) : (raw: Raw) => raw;
      return (raw) => (raw as Raw[]).map((value) => (value === null ? null : item(value)));
    }
    default:
      return (raw) => raw;
  }
}

/** MySQL's escapes in a string literal; `\%` and `\_` keep their backslash, any other `\x` is x. */
const ESCAPED: Record<string, string> = {
  '0': '\0',
  b: '\b',
  n: '\n',
  r: '\r',
  t: '\t',
  Z: '\x1a',
  '%': '\\%',
  _: '\\_',
};

/**
 * The ENUM or SET option a value names. A streamed value is the option as Debezium parsed it from
 * the table's DDL, with the literal's backslash escapes left in and each comma escaped (the
 * options are listed in `allowed`, comma-separated): 'a,b' arrives as `a\,b`, 'x\\y' as `x\\y`.
 * A snapshot reads the value itself. A value that is one option's escaped form and no option
 * itself is that option.
 */
function enumOption(allowed = ''): (value: string) => string {
  const options = new Map<string, string>();
  const exact = new Set<string>();
  for (const [escaped] of allowed.matchAll(/(?:[^\\,]|\\[^])+/g)) {
    const option = escaped.replace(/\\([^])/g, (_m, next: string) => ESCAPED[next] ?? next);
    if (escaped !== option) options.set(escaped, option);
    exact.add(option);
  }
  for (const value of exact) options.delete(value);
  return options.size === 0 ? (value) => value : (value) => options.get(value) ?? value;
}

function toBytes(raw: Raw): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') return Buffer.from(raw, 'base64');
  throw new DecodeError(`expected bytes, got ${typeof raw}`);
}

/** Big-endian two's complement, as Kafka Connect encodes a decimal's unscaled value. */
function unscaled(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  const negative = (bytes[0] as number) & 0x80;
  return negative ? value - (1n << BigInt(bytes.length * 8)) : value;
}

/** BIT(n) columns: Debezium sends the bits little-endian. */
function littleEndianUnsigned(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
  return value;
}

export function formatDecimal(unscaledValue: bigint, scale: number): string {
  const negative = unscaledValue < 0n;
  const digits = (negative ? -unscaledValue : unscaledValue).toString();
  if (scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  const text = `${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
  return (negative ? '-' : '') + text;
}

/** Exact at any precision; whether DynamoDB can hold it is decided when the item is prepared. */
const toDecimal = (value: bigint, scale: number): Decimal => Decimal.from(formatDecimal(value, scale));

function unsignedLong(raw: Raw): bigint {
  const value = BigInt(typeof raw === 'bigint' || typeof raw === 'number' ? raw : String(raw));
  return value < 0n ? value + (1n << 64n) : value;
}

/**
 * A column declared FLOAT(M,D) or FLOAT(p), which Debezium sends as a double. FLOAT(M,D) holds a
 * 32-bit value the server rounded to D decimals when it stored it, and shows with D decimals: so
 * does ferry (0.10000000149011612 is 0.1, as a snapshot and a SELECT read it). FLOAT(p) up to 24 is
 * a FLOAT (mysqlFloat); above, a DOUBLE, exact.
 */
function floatColumn(parameters: Record<string, string>): ValueDecoder {
  const scale = parameters['__debezium.source.column.scale'];
  const length = Number(parameters['__debezium.source.column.length'] ?? 0);
  if (scale !== undefined) return (raw) => fixedFloat(raw as number, Number(scale));
  return length <= 24 ? (raw) => mysqlFloat(raw as number) : (raw) => raw;
}

/**
 * A FLOAT(M,D) value as the servers show it: its 32-bit value to D decimals, an exact tie
 * (524288.0625 to three) to the even digit as their dtoa does (524288.062), where toFixed goes up.
 */
export function fixedFloat(value: number, decimals: number): number {
  const exact = Math.fround(value);
  // FLOAT(M,D) has D <= 30, and its ties have D + 1 decimals: 30 more show whether it is one.
  const text = Math.abs(exact).toFixed(decimals + 30);
  const kept = text.slice(0, -30);
  if (/^50*$/.test(text.slice(-30)) && Number(kept.replace('.', '').at(-1)) % 2 === 0)
    return exact < 0 ? -Number(kept) : Number(kept);
  return Number(exact.toFixed(decimals));
}

/**
 * A FLOAT column as MySQL and MariaDB show it: its 32-bit value to six significant digits
 * (FLT_DIG). A snapshot can only carry that text (the server formats FLOAT so, and the JDBC
 * driver reads it into a float), while the binlog carries the exact 32-bit value: rounding both
 * the same way makes a row's snapshot and its streamed changes agree, and agree with a SELECT.
 */
export function mysqlFloat(value: number): number {
  if (!Number.isFinite(value)) return value;
  const exact = Math.fround(value);
  // An exact tie at the seventh digit (-327490.5): the servers' dtoa rounds it to the even digit,
  // toPrecision away from zero.
  const [seven, exponent] = exact.toExponential(6).split('e') as [string, string];
  if (seven.endsWith('5')) {
    const digits = exactDigits(exact);
    if (digits.length === 7 && Number(digits[5]) % 2 === 0) return Number(`${seven.slice(0, -1)}e${exponent}`);
  }
  return Number(exact.toPrecision(6));
}

/** A float's exact decimal digits, without sign, point, or leading and trailing zeros. */
function exactDigits(x: number): string {
  // Doubles below 1e21 have at most 100 decimals that matter here: a tie has seven digits in all.
  const text = Math.abs(x) >= 1e21 ? BigInt(x).toString() : Math.abs(x).toFixed(100);
  return text.replace('.', '').replace(/^0+|0+$/g, '');
}

function toSafeInteger(raw: Raw): number | bigint {
  if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw;
  if (typeof raw === 'number') return raw;
  // Avro longs beyond 2^53 and lossless JSON parsing hand over text or Long-like objects.
  const big = BigInt(String(raw));
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

const pad = (value: number | bigint, width: number) => value.toString().padStart(width, '0');

/** Dates repeat across rows: each is formatted once (the cache is emptied when it grows large). */
const dates = new Map<number, string>();

export function isoDate(daysSinceEpoch: number): string {
  let text = dates.get(daysSinceEpoch);
  if (text === undefined) {
    if (dates.size >= 10_000) dates.clear();
    const date = new Date(daysSinceEpoch * 86_400_000);
    const year = date.getUTCFullYear();
    const yyyy = year < 0 ? `-${pad(-year, 6)}` : year > 9999 ? `+${pad(year, 6)}` : pad(year, 4);
    text = `${yyyy}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
    dates.set(daysSinceEpoch, text);
  }
  return text;
}

/**
 * A duration since midnight; MySQL TIME spans -838:59:59 to 838:59:59, under 2^53 nanoseconds,
 * so the arithmetic is exact in numbers (BigInt costs several times more, on every row).
 */
export function isoTime(nanosSinceMidnight: bigint, digits: number): string {
  const nanos = Number(nanosSinceMidnight);
  // No TIME comes near; a value that does is not one, and is refused rather than rounded.
  if (!Number.isSafeInteger(nanos)) throw new DecodeError(`unexpected time of ${nanosSinceMidnight} ns`);
  const abs = Math.abs(nanos);
  let seconds = Math.floor(abs / 1e9);
  if (seconds * 1e9 > abs) seconds--; // a quotient rounded up to the next second
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor(seconds / 60) % 60;
  const ss = seconds % 60;
  const fraction = digits === 0 ? '' : `.${pad(abs - seconds * 1e9, 9).slice(0, digits)}`;
  return `${nanos < 0 ? '-' : ''}${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}${fraction}`;
}

/**
 * MySQL's zero TIMESTAMP ('0000-00-00 00:00:00') is stored as epoch 0, which no real TIMESTAMP
 * can be (they start at 1970-01-01 00:00:01 UTC); Debezium sends it as the epoch. It is NULL,
 * as Debezium sends a zero DATE or DATETIME.
 */
const ZERO_TIMESTAMP = /^1970-01-01T00:00:00(\.0+)?Z$/;

const ZONED_TIMESTAMP = /^([+-]?\d{4,6}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * A TIMESTAMP as UTC text with six fractional digits (or nine, if Debezium sent more than six).
 * Debezium drops trailing zeros of the fraction when it reads a snapshot ('…00:01Z',
 * '…00.12Z') but pads them to the column's width when it streams ('…00:01.000000Z'): the same
 * value must give the same text, and text must sort as time does.
 */
export function isoZonedTimestamp(text: string, column = 'timestamp'): string {
  const match = ZONED_TIMESTAMP.exec(text);
  if (!match) throw new DecodeError(`column ${column}: unexpected ZonedTimestamp "${text}"`);
  const [, dateTime, digits = '', zone] = match as unknown as [string, string, string | undefined, string];
  let utc = dateTime;
  if (zone !== 'Z' && zone !== '+00:00' && zone !== '-00:00') {
    const instant = new Date(`${dateTime}${zone}`);
    if (Number.isNaN(instant.getTime())) throw new DecodeError(`column ${column}: unexpected ZonedTimestamp "${text}"`);
    utc = instant.toISOString().slice(0, -5); // drop '.sssZ'
  }
  return `${utc}.${digits.padEnd(digits.length > 6 ? 9 : 6, '0')}Z`;
}

/** A wall-clock date and time without a zone (MySQL DATETIME), from nanoseconds since the epoch. */
export function isoDateTime(nanosSinceEpoch: bigint, digits: number): string {
  const nanosPerDay = 86_400_000_000_000n;
  let days = nanosSinceEpoch / nanosPerDay;
  let rest = nanosSinceEpoch % nanosPerDay;
  if (rest < 0n) {
    days -= 1n;
    rest += nanosPerDay;
  }
  return `${isoDate(Number(days))}T${isoTime(rest, digits)}`;
}
