import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import type { Row } from '../core/change-event';
import { ConfigError, FerryError, describe } from '../core/errors';
import { Decimal, mysqlFloat } from '../source/debezium/logical-types';

export interface Column {
  name: string;
  dataType: string;
  columnType: string;
  nullable: boolean;
  /** DATETIME/TIMESTAMP/TIME fractional digits, BIT length. */
  precision: number;
}

export interface TableShape {
  db: string;
  table: string;
  columns: Column[];
  primaryKey: string[];
}

export async function connectSource(url: string): Promise<Connection> {
  try {
    const connection = await mysql.createConnection({
      uri: url,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
    });
    // TIMESTAMP columns are read in UTC, as Debezium sends them.
    await connection.query("SET time_zone = '+00:00'");
    return connection;
  } catch (err) {
    throw new FerryError(
      `cannot connect to the source database (${redact(url)}): ${describe(err)} (check FERRY_SOURCE_URL)`,
    );
  }
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;

export async function describeTable(connection: Connection, qualified: string): Promise<TableShape> {
  const [db, table] = qualified.split('.') as [string, string];
  const [columns] = await connection.query<RowDataPacket[]>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE = 'YES' AS nullable,
       COALESCE(DATETIME_PRECISION, NUMERIC_PRECISION, 0) AS \`precision\`
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  if (columns.length === 0) throw new ConfigError(`source table ${qualified} not found (or not readable by this user)`);
  const [keys] = await connection.query<RowDataPacket[]>(
    `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  if (keys.length === 0)
    throw new ConfigError(`source table ${qualified} has no primary key; ferry needs one to read it in ranges`);
  return {
    db,
    table,
    columns: columns.map((c) => ({ ...c, nullable: Boolean(c.nullable), precision: Number(c.precision) }) as Column),
    primaryKey: keys.map((k) => k.name as string),
  };
}

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
    case 'geometry':
    case 'point':
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
    case 'float':
      return mysqlFloat(Number(raw));
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
      return { srid: row[`${c.name}.srid`] ?? null, wkb: raw as Uint8Array };
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
  /** Percent of rows to read, chosen by a hash of the primary key so a rerun reads the same ones. */
  samplePercent?: number;
  /** An extra SQL condition. */
  where?: string;
}

/** A row as ferry decodes it, with its primary key as the database returned it (to read it again). */
export interface SourceRow {
  row: Row;
  key: unknown[];
}

const fromClause = (shape: TableShape) => `${quote(shape.db)}.${quote(shape.table)}`;
const selectList = (shape: TableShape) => shape.columns.map(selectExpression).join(', ');
const decodeRow = (shape: TableShape, raw: RowDataPacket): SourceRow => ({
  row: Object.fromEntries(shape.columns.map((c) => [c.name, convert(c, raw[c.name], raw)])),
  key: shape.primaryKey.map((k) => raw[k]),
});

/** Streams a table in primary-key order, one batch at a time: the table is never all in memory. */
export async function* readTable(
  connection: Connection,
  shape: TableShape,
  options: ReadOptions,
): AsyncGenerator<SourceRow[]> {
  const pk = shape.primaryKey.map(quote);
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
    const page = rows.map((raw) => decodeRow(shape, raw));
    after = (page.at(-1) as SourceRow).key;
    yield page;
    if (rows.length < options.batchSize) return;
  }
}

/** Rows are looked up this many keys to a query: well under MariaDB's IN-to-subquery threshold (1,000). */
const LOOKUP_BATCH = 500;

/**
 * The rows whose `columns` (the primary key or another unique key) hold one of `tuples`, read
 * through that key's index. Values are compared by the database, so a looser match (a case-
 * insensitive collation, trailing spaces) can return a row: callers check what it maps to.
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
    for (const raw of rows) found.push(decodeRow(shape, raw));
  }
  return found;
}

/** The table's unique keys that hold no NULL, the primary key first: the columns a row can be found by. */
export async function uniqueKeys(connection: Connection, shape: TableShape): Promise<string[][]> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT INDEX_NAME AS indexName, COLUMN_NAME AS name FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 AND COLUMN_NAME IS NOT NULL
     ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    [shape.db, shape.table],
  );
  const byIndex = new Map<string, string[]>();
  for (const { indexName, name } of rows)
    byIndex.set(indexName as string, [...(byIndex.get(indexName as string) ?? []), name as string]);
  return [...byIndex.values()];
}

/** The binlog position now, as file sequence and byte position (MariaDB and MySQL before 8.4). */
export async function binlogPosition(connection: Connection): Promise<{ file: string; position: number }> {
  const [rows] = await connection.query<RowDataPacket[]>('SHOW MASTER STATUS');
  const row = rows[0];
  if (!row)
    throw new ConfigError(
      'the source has no binary log position (is log-bin on, and does the user have BINLOG MONITOR?)',
    );
  return { file: row.File as string, position: Number(row.Position) };
}
