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

/** The select expression that reads a column as text ferry can decode exactly. */
function selectExpression(c: Column): string {
  const col = quote(c.name);
  switch (c.dataType) {
    case 'datetime':
    case 'timestamp':
      return `DATE_FORMAT(${col}, '%Y-%m-%dT%H:%i:%s.%f') AS ${col}`;
    case 'date':
      return `DATE_FORMAT(${col}, '%Y-%m-%d') AS ${col}`;
    case 'time':
      return `TIME_FORMAT(${col}, '%H:%i:%s.%f') AS ${col}`;
    // As text, decoded below; mysql2's own DOUBLE parser is lossy (918273.0653115719 -> 918273.065311572).
    case 'decimal':
    case 'bigint':
    case 'json':
    case 'longtext':
    case 'double':
    case 'float':
      return `CAST(${col} AS CHAR) AS ${col}`;
    case 'bit':
      return `CAST(${col} AS UNSIGNED) AS ${col}`;
    case 'point':
      return `ST_SRID(${col}) AS ${quote(`${c.name}.srid`)}, CAST(ST_X(${col}) AS CHAR) AS ${quote(`${c.name}.x`)}, CAST(ST_Y(${col}) AS CHAR) AS ${quote(`${c.name}.y`)}, ST_AsWKB(${col}) AS ${col}`;
    case 'geometry':
    case 'linestring':
    case 'polygon':
      return `ST_SRID(${col}) AS ${quote(`${c.name}.srid`)}, ST_AsWKB(${col}) AS ${col}`;
    default:
      return col;
  }
}

/** Converts one selected value by the same rules ferry decodes Debezium events with (see the README). */
function convert(c: Column, raw: unknown, row: RowDataPacket): unknown {
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
    case 'point':
      return {
        srid: Number(row[`${c.name}.srid`]) || null,
        wkb: raw as Uint8Array,
        x: Number(row[`${c.name}.x`]),
        y: Number(row[`${c.name}.y`]),
      };
    case 'geometry':
    case 'linestring':
    case 'polygon':
      return { srid: Number(row[`${c.name}.srid`]) || null, wkb: raw as Uint8Array };
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
  return c.dataType === 'date' ? '1970-01-01' : convert(c, '1970-01-01T00:00:00.000000', {} as RowDataPacket);
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
const selectList = (shape: TableShape) => shape.columns.map(selectExpression).join(', ');
const decodeRow = (shape: TableShape, raw: RowDataPacket, key: readonly string[]): SourceRow => ({
  row: Object.fromEntries(shape.columns.map((c) => [c.name, convert(c, raw[c.name], raw)])),
  key: key.map((k) => raw[k]),
});

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
  let after: unknown[] | undefined;
  for (;;) {
    const where = [...conditions, ...(after ? [`(${pk.join(', ')}) > (${pk.map(() => '?').join(', ')})`] : [])];
    const sql = `SELECT ${selectList(shape)} FROM ${fromClause(shape)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${pk.join(', ')} LIMIT ${options.batchSize}`;
    const [rows] = await connection.query<RowDataPacket[]>(sql, after ?? []);
    if (rows.length === 0) return;
    const page = rows.map((raw) => decodeRow(shape, raw, key));
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
  const target = columns.length === 1 ? quote(columns[0] as string) : `(${columns.map(quote).join(', ')})`;
  const placeholder = columns.length === 1 ? '?' : `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < tuples.length; i += LOOKUP_BATCH) {
    const chunk = tuples.slice(i, i + LOOKUP_BATCH);
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT ${selectList(shape)} FROM ${fromClause(shape)} WHERE ${target} IN (${chunk.map(() => placeholder).join(', ')})`,
      chunk.flat(),
    );
    for (const raw of rows) found.push(decodeRow(shape, raw, columns));
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
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT ${cols} FROM ${fromClause(shape)} GROUP BY ${cols} HAVING COUNT(*) > 1 LIMIT 1`,
  );
  const row = rows[0];
  return row ? columns.map((c) => row[c]) : undefined;
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
