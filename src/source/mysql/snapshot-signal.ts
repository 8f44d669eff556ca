import { randomUUID } from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import { describe } from '../../core/errors';
import { connectSource } from './connection';
import { describeTable } from './table-shape';

/**
 * Asks Debezium for an incremental snapshot of a table by writing an `execute-snapshot` row into
 * its signalling table (Debezium reads the signal from the binlog; the row is only its carrier).
 * Returns the signal's id, which Debezium's snapshot notifications carry too.
 */
export async function requestSnapshot(
  source: Connection,
  signalTable: string,
  table: string,
  where?: string,
): Promise<string> {
  const shape = await describeTable(source, table);
  const data = {
    'data-collections': [table],
    type: 'incremental',
    ...(where ? { 'additional-conditions': [{ 'data-collection': table, filter: where }] } : {}),
  };
  const id = randomUUID();
  await source.query(
    `INSERT INTO \`${shape.db}\`.\`${signalTable}\` (id, type, data) VALUES (?, 'execute-snapshot', ?)`,
    [id, JSON.stringify(data)],
  );
  return id;
}

/**
 * Why a snapshot could not be asked for now (the source unreachable, the signalling table
 * missing or unreadable), or undefined when it could.
 */
export async function signalTableProblem(url: string, signalTable: string, table: string): Promise<string | undefined> {
  try {
    const source = await connectSource(url);
    try {
      await describeTable(source, `${table.split('.')[0]}.${signalTable}`);
      return undefined;
    } finally {
      await source.end();
    }
  } catch (err) {
    return describe(err);
  }
}
