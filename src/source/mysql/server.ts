import type { Connection, RowDataPacket } from 'mysql2/promise';

/** A source server as `SELECT VERSION()` describes it. */
export interface SourceServer {
  kind: 'mysql' | 'mariadb';
  major: number;
  minor: number;
  patch: number;
  /** VERSION() as the server said it. */
  version: string;
}

/**
 * MariaDB names itself in its version; every other server of this protocol ferry meets is MySQL
 * or built from it (Percona Server, Amazon RDS and Aurora MySQL), and takes MySQL's statements.
 */
export function parseServerVersion(version: string): SourceServer {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? /^(\d+)\.(\d+)\./.exec(version);
  if (!match) throw new Error(`cannot read the server version "${version}"`);
  const [major, minor, patch] = [match[1], match[2], match[3] ?? '0'].map(Number) as [number, number, number];
  return { kind: /mariadb/i.test(version) ? 'mariadb' : 'mysql', major, minor, patch, version };
}

const atLeast = (s: SourceServer, major: number, minor: number, patch = 0) =>
  s.major !== major ? s.major > major : s.minor !== minor ? s.minor > minor : s.patch >= patch;

/**
 * The statement that reads the binlog position: MySQL 8.2 added SHOW BINARY LOG STATUS and 8.4
 * removed SHOW MASTER STATUS; MariaDB answers SHOW MASTER STATUS in every version.
 */
export const binlogStatusStatement = (s: SourceServer) =>
  s.kind === 'mysql' && atLeast(s, 8, 2) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';

/** The privilege that statement needs: MariaDB 10.5.2 moved it from REPLICATION CLIENT to BINLOG MONITOR. */
export const binlogStatusPrivilege = (s: SourceServer) =>
  s.kind === 'mariadb' && atLeast(s, 10, 5, 2) ? 'BINLOG MONITOR' : 'REPLICATION CLIENT';

const servers = new WeakMap<Connection, Promise<SourceServer>>();

/** The server behind a connection, asked once per connection. */
export function serverOf(connection: Connection): Promise<SourceServer> {
  let server = servers.get(connection);
  if (!server) {
    server = connection
      .query<RowDataPacket[]>('SELECT VERSION() AS version')
      .then(([rows]) => parseServerVersion(String(rows[0]?.version)));
    servers.set(connection, server);
  }
  return server;
}
