import { ConfigError } from '../core/errors';

export interface GrantsOptions {
  source: 'mysql' | 'mariadb';
  /** `db.table` the mapping reads. */
  table: string;
  /** Debezium's signalling table, in the same database. */
  signalTable: string;
  cdcUser: string;
  workerUser: string;
  verifyUser: string;
  /** The host part of the accounts: where they connect from. */
  host: string;
}

/** A MySQL identifier, quoted. */
const id = (name: string) => `\`${name.replace(/`/g, '``')}\``;
const account = (user: string, host: string) => `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;

/**
 * The accounts and grants ferry's three database users need, as SQL for the source's kind:
 * - the CDC user, which Debezium's connector logs in as: the snapshot's reads and locks, and the
 *   binlog (MariaDB 10.5 and later name the binlog reading privilege BINLOG MONITOR);
 * - the worker's user (FERRY_SOURCE_URL of `ferry run` and `ferry snapshot`), which asks Debezium
 *   for snapshots by writing the signalling table;
 * - the verify user, which reads the table, and with --repair the binlog position repairs are
 *   stamped with.
 */
export function sourceGrants(o: GrantsOptions): string {
  const [database, table] = o.table.split('.');
  if (!database || !table) throw new ConfigError(`table "${o.table}" is not <db>.<table>`);
  const binlogPosition = o.source === 'mariadb' ? 'BINLOG MONITOR' : 'REPLICATION CLIENT';
  const cdcGlobal =
    o.source === 'mariadb'
      ? 'SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, LOCK TABLES'
      : 'SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT';
  const signal = `${id(database)}.${id(o.signalTable)}`;
  const users = [...new Set([o.cdcUser, o.workerUser, o.verifyUser])];
  return [
    `-- ferry's database accounts for ${o.table} on ${o.source === 'mariadb' ? 'MariaDB 10.5 or later' : 'MySQL 8.0 or 8.4'}; set each password.`,
    ...users.map((u) => `CREATE USER IF NOT EXISTS ${account(u, o.host)} IDENTIFIED BY '<password>';`),
    `-- Debezium's connector (database.user): snapshot reads and locks, the binlog; window markers of incremental snapshots.`,
    `GRANT ${cdcGlobal} ON *.* TO ${account(o.cdcUser, o.host)};`,
    `GRANT INSERT ON ${signal} TO ${account(o.cdcUser, o.host)};`,
    `-- ferry run and ferry snapshot (FERRY_SOURCE_URL): the table's shape; a snapshot is asked for by a row in the signalling table.`,
    `GRANT SELECT ON ${id(database)}.${id(table)} TO ${account(o.workerUser, o.host)};`,
    `GRANT SELECT, INSERT ON ${signal} TO ${account(o.workerUser, o.host)};`,
    `-- ferry verify (FERRY_SOURCE_URL): the table's rows; --repair stamps repairs with the binlog position.`,
    `GRANT SELECT ON ${id(database)}.${id(table)} TO ${account(o.verifyUser, o.host)};`,
    `GRANT ${binlogPosition} ON *.* TO ${account(o.verifyUser, o.host)};`,
    '',
  ].join('\n');
}
