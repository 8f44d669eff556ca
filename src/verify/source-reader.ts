import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Row } from '../core/change-event';
import { ConfigError } from '../core/errors';
import { Decimal, compactJson, mysqlFloat } from '../source/debezium/logical-types';
import type { RowKey } from '../source/mysql/row-key';
import { binlogStatusPrivilege, binlogStatusStatement, serverOf } from '../source/mysql/server';
import { type Column, type TableShape, qualifiedName } from '../source/mysql/table-shape';

// verify and its tools read the source through this module; the table's shape is described once, in source/mysql.
export { connectSource } from '../source/mysql/connection';
export { type Column, type TableShape, describeTable } from '../source/mysql/table-shape';

/** float(10,3): FLOAT(M,D), which the server rounds to D decimals and shows so. */
const FIXED_FLOAT = /^float\(\d+,\d+\)/i;

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/**
 * The select expressions that read a column as text ferry can decode exactly: what its
 * conversion needs first, the value itself last. Rows are read as arrays, by position, and every
 * expression gets a plain alias: a column may have any name, `__proto__` included, which mysql2
 * refuses as a result's column name.
 */
function selectExpressions(c: Column): string[] {
  const col = quote(c.name);
  switch (c.dataType) {
    case 'datetime':
    case 'timestamp':
      return [`DATE_FORMAT(${col}, '%Y-%m-%dT%H:%i:%s.%f')`];
    case 'date':
      return [`DATE_FORMAT(${col}, '%Y-%m-%d')`];
    case 'time':
      return [`TIME_FORMAT(${col}, '%H:%i:%s.%f')`];
    // As text, decoded below; mysql2's own DOUBLE parser is lossy (918273.0653115719 -> 918273.065311572).
    case 'decimal':
    case 'bigint':
    case 'json':
    case 'longtext':
    case 'double':
    case 'float':
      return [`CAST(${col} AS CHAR)`];
    case 'bit':
      return [`CAST(${col} AS UNSIGNED)`];
    case 'point':
      return [`ST_SRID(${col})`, `CAST(ST_X(${col}) AS CHAR)`, `CAST(ST_Y(${col}) AS CHAR)`, `ST_AsWKB(${col})`];
    case 'geometry':
    case 'linestring':
    case 'polygon':
      return [`ST_SRID(${col})`, `ST_AsWKB(${col})`];
    default:
      return [col];
  }
}

/** Converts one column's selected values (see selectExpressions) by the same rules ferry decodes Debezium events with (see the README). */
function convert(c: Column, selected: unknown[]): unknown {
  const raw = selected.at(-1);
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string' && raw.startsWith('0000-00-00')) return zeroDate(c);
  switch (c.dataType) {
    case 'datetime':
      return (raw as string).slice(0, c.precision <= 3 ? 23 : 26);
    case 'timestamp':
      return `${raw as string}Z`;
    case 'time':
      return raw as string;
    case 'decimal':
      return Decimal.from(raw as string);
    case 'bigint': {
      const big = BigInt(raw as string);
      return Number.isSafeInteger(Number(big)) ? Number(big) : big;
    }
    case 'bit':
      return c.precision === 1 ? String(raw) === '1' : BigInt(raw as string);
    case 'set':
      return raw === '' ? [] : (raw as string).split(',');
    case 'year':
      return Number(raw);
    case 'double':
      return Number(raw);
    // Only MySQL reports JSON (MariaDB's is LONGTEXT): its text, as ferry decodes MySQL's JSON.
    case 'json':
      return compactJson(raw as string);
    // FLOAT(M,D) as the server shows it, with D decimals; a FLOAT to six digits (see logical-types).
    case 'float':
      return FIXED_FLOAT.test(c.columnType) ? Number(raw) : mysqlFloat(Number(raw));
    // SRID 0 (none) is null, as Debezium sends it.
    case 'point': {
      const [srid, x, y] = selected;
      return { srid: Number(srid) || null, wkb: raw as Uint8Array, x: Number(x), y: Number(y) };
    }
    case 'geometry':
    case 'linestring':
    case 'polygon':
      return { srid: Number(selected[0]) || null, wkb: raw as Uint8Array };
    default:
      return raw;
  }
}

/**
 * A zero date, as Debezium sends it: NULL, or for a NOT NULL DATE or DATETIME the epoch; a zero
 * TIMESTAMP is always NULL (see logical-types).
 */
function zeroDate(c: Column): unknown {
  if (c.nullable || c.dataType === 'timestamp') return null;
  return c.dataType === 'date' ? '1970-01-01' : convert(c, ['1970-01-01T00:00:00.000000']);
}

export interface ReadOptions {
  batchSize: number;
  /** The columns rows are read in order of: a row key (see source/mysql/row-key); the primary key by default. */
  key?: readonly string[];
  /** Percent of rows to read, chosen by a hash of the key so a rerun reads the same ones. */
  samplePercent?: number;
  /** An extra SQL condition. */
  where?: string;
}

/** A row as ferry decodes it, with the values of the key it was read by as the database returned them (to read it again). */
export interface SourceRow {
  row: Row;
  key: unknown[];
}

const fromClause = (shape: TableShape) => `${quote(shape.db)}.${quote(shape.table)}`;

/** How a table's rows are selected and decoded: each column's values by position, and where the key's values are. */
interface RowReader {
  selectList: string;
  decode: (values: unknown[]) => SourceRow;
}

function rowReader(shape: TableShape, key: readonly string[]): RowReader {
  const expressions = shape.columns.map(selectExpressions);
  const spans: Array<{ column: Column; start: number; end: number }> = [];
  let end = 0;
  for (const [i, column] of shape.columns.entries()) {
    const start = end;
    end += (expressions[i] as string[]).length;
    spans.push({ column, start, end });
  }
  const keyAt = key.map((k) => (spans.find((s) => s.column.name === k)?.end ?? 0) - 1);
  return {
    selectList: aliased(expressions.flat()),
    decode: (values) => ({
      row: Object.fromEntries(spans.map((s) => [s.column.name, convert(s.column, values.slice(s.start, s.end))])),
      key: keyAt.map((at) => values[at]),
    }),
  };
}

const aliased = (expressions: string[]) => expressions.map((e, i) => `${e} AS c${i}`).join(', ');

/** Rows as arrays of values in select order (see selectExpressions). */
async function selectValues(connection: Connection, sql: string, values: unknown[] = []): Promise<unknown[][]> {
  const [rows] = await connection.query<RowDataPacket[]>({ sql, rowsAsArray: true }, values);
  return rows as unknown as unknown[][];
}

/** Streams a table in key order, one batch at a time: the table is never all in memory. */
export async function* readTable(
  connection: Connection,
  shape: TableShape,
  options: ReadOptions,
): AsyncGenerator<SourceRow[]> {
  const key = options.key ?? shape.primaryKey;
  if (key.length === 0)
    throw new ConfigError(`source table ${qualifiedName(shape)} has no primary key; name the columns to read it by`);
  const pk = key.map(quote);
  const conditions: string[] = [];
  if (options.samplePercent !== undefined && options.samplePercent < 100) {
    conditions.push(`CRC32(CONCAT_WS(',', ${pk.join(', ')})) % 10000 < ${Math.round(options.samplePercent * 100)}`);
  }
  if (options.where) conditions.push(`(${options.where})`);
  const reader = rowReader(shape, key);
  let after: unknown[] | undefined;
  for (;;) {
    const where = [...conditions, ...(after ? [`(${pk.join(', ')}) > (${pk.map(() => '?').join(', ')})`] : [])];
    const sql = `SELECT ${reader.selectList} FROM ${fromClause(shape)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${pk.join(', ')} LIMIT ${options.batchSize}`;
    const rows = await selectValues(connection, sql, after);
    if (rows.length === 0) return;
    const page = rows.map(reader.decode);
    after = (page.at(-1) as SourceRow).key;
    yield page;
    if (rows.length < options.batchSize) return;
  }
}

/** Rows are looked up this many keys to a query: well under MariaDB's IN-to-subquery threshold (1,000). */
const LOOKUP_BATCH = 500;

/**
 * The rows whose `columns` (a row key or another unique key) hold one of `tuples`, read through
 * that key's index; each row's `key` holds its values of `columns`. Values are compared by the
 * database, so a looser match (a case-insensitive collation, trailing spaces) can return a row:
 * callers check what it maps to.
 */
export async function readRowsByKey(
  connection: Connection,
  shape: TableShape,
  columns: string[],
  tuples: unknown[][],
): Promise<SourceRow[]> {
  const found: SourceRow[] = [];
  const reader = rowReader(shape, columns);
  const target = columns.length === 1 ? quote(columns[0] as string) : `(${columns.map(quote).join(', ')})`;
  const placeholder = columns.length === 1 ? '?' : `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < tuples.length; i += LOOKUP_BATCH) {
    const chunk = tuples.slice(i, i + LOOKUP_BATCH);
    const rows = await selectValues(
      connection,
      `SELECT ${reader.selectList} FROM ${fromClause(shape)} WHERE ${target} IN (${chunk.map(() => placeholder).join(', ')})`,
      chunk.flat(),
    );
    for (const values of rows) found.push(reader.decode(values));
  }
  return found;
}

/**
 * The column sets a row can be found by: the row key first, then the table's unique keys (a
 * NULL in a nullable one matches nothing, so a lookup through it is still exact).
 */
export function lookupKeys(shape: TableShape, key: RowKey): string[][] {
  const all = [key.columns, shape.primaryKey, ...shape.uniqueKeys.map((k) => k.columns)].filter((k) => k.length > 0);
  return all.filter((k, i) => all.findIndex((other) => other.join('\0') === k.join('\0')) === i);
}

/**
 * One value of `columns` that more than one row holds, or undefined when they tell every row
 * apart: named key columns are no constraint the database enforces, and reading in ranges by
 * columns that repeat would skip rows.
 */
export async function sharedKeyValue(
  connection: Connection,
  shape: TableShape,
  columns: readonly string[],
): Promise<unknown[] | undefined> {
  const cols = columns.map(quote).join(', ');
  const [row] = await selectValues(
    connection,
    `SELECT ${aliased(columns.map(quote))} FROM ${fromClause(shape)} GROUP BY ${cols} HAVING COUNT(*) > 1 LIMIT 1`,
  );
  return row;
}

/** The binlog position now, as file and byte position, by the statement this server takes. */
export async function binlogPosition(connection: Connection): Promise<{ file: string; position: number }> {
  const server = await serverOf(connection);
  const [rows] = await connection.query<RowDataPacket[]>(binlogStatusStatement(server));
  const row = rows[0];
  if (!row)
    throw new ConfigError(
      `the source has no binary log position (is log-bin on, and does the user have ${binlogStatusPrivilege(server)}?)`,
    );
  return { file: row.File as string, position: Number(row.Position) };
}
