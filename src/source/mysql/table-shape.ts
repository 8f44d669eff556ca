import type { Connection, RowDataPacket } from 'mysql2/promise';
import { ConfigError } from '../../core/errors';

export interface Column {
  name: string;
  dataType: string;
  columnType: string;
  nullable: boolean;
  /** DATETIME/TIMESTAMP/TIME fractional digits, BIT length. */
  precision: number;
}

export interface UniqueKey {
  name: string;
  columns: string[];
}

/** A table as information_schema describes it: what ferry needs to type, key and read its rows. */
export interface TableShape {
  db: string;
  table: string;
  columns: Column[];
  /** Empty when the table has none. */
  primaryKey: string[];
  /** UNIQUE keys other than the primary key, in the order the server lists the table's keys. */
  uniqueKeys: UniqueKey[];
}

export const qualifiedName = (shape: Pick<TableShape, 'db' | 'table'>) => `${shape.db}.${shape.table}`;

export async function describeTable(connection: Connection, qualified: string): Promise<TableShape> {
  // A table's name may hold a dot ("a.b"); the database's, as ferry is given it, does not.
  const dot = qualified.indexOf('.');
  const [db, table] = [qualified.slice(0, dot), qualified.slice(dot + 1)];
  const [columns] = await connection.query<RowDataPacket[]>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE = 'YES' AS nullable,
       COALESCE(DATETIME_PRECISION, NUMERIC_PRECISION, 0) AS \`precision\`
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  if (columns.length === 0) throw new ConfigError(`source table ${qualified} not found (or not readable by this user)`);
  // No ORDER BY: the server lists a table's keys in its own order (the primary key, then unique
  // keys over NOT NULL columns, then the others), the order SHOW CREATE TABLE shows and Debezium reads.
  const [parts] = await connection.query<RowDataPacket[]>(
    `SELECT INDEX_NAME AS indexName, COLUMN_NAME AS name, SEQ_IN_INDEX AS seq FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0`,
    [db, table],
  );
  const keys = new Map<string, Array<{ name: string | null; seq: number }>>();
  for (const { indexName, name, seq } of parts)
    keys.set(indexName as string, [
      ...(keys.get(indexName as string) ?? []),
      { name: name as string | null, seq: Number(seq) },
    ]);
  const ordered = [...keys].flatMap(([name, cols]) =>
    // A key over an expression (MySQL's functional key parts) is no set of columns.
    cols.some((c) => c.name === null)
      ? []
      : [{ name, columns: cols.sort((a, b) => a.seq - b.seq).map((c) => c.name as string) }],
  );
  return {
    db,
    table,
    columns: columns.map((c) => ({ ...c, nullable: Boolean(c.nullable), precision: Number(c.precision) }) as Column),
    primaryKey: ordered.find((k) => k.name === 'PRIMARY')?.columns ?? [],
    uniqueKeys: ordered.filter((k) => k.name !== 'PRIMARY'),
  };
}

/**
 * A database's tables by name (not views): base tables, and those whose row events Debezium 3.4
 * cannot read (a MariaDB sequence, a system-versioned table's hidden row_start and row_end), which
 * stop the connector for the whole database.
 */
export async function listTables(
  connection: Connection,
  db: string,
): Promise<{ base: string[]; uncapturable: Array<{ name: string; kind: 'sequence' | 'system-versioned table' }> }> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SEQUENCE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME`,
    [db],
  );
  return {
    base: rows.filter((r) => r.type === 'BASE TABLE').map((r) => r.name as string),
    uncapturable: rows
      .filter((r) => r.type !== 'BASE TABLE')
      .map((r) => ({ name: r.name as string, kind: r.type === 'SEQUENCE' ? 'sequence' : 'system-versioned table' })),
  };
}
