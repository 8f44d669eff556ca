import mysql, { type Connection } from 'mysql2/promise';
import { FerryError, describe } from '../../core/errors';

/** A connection to the source database, reading values as text ferry decodes exactly, in UTC. */
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
