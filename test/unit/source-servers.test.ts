/**
 * MySQL and MariaDB as sources: the server a connection reaches and the statements it takes, and
 * the events of Debezium's two connectors. The events are the documented examples of Debezium's
 * MySQL and MariaDB connectors (shared-mariadb-mysql.adoc, debezium/debezium at aad5519): create,
 * update and delete of one customer, the update and delete with the create's schema, which the
 * documentation elides. Needs nothing running.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { formatVersion } from '../../src/core/version';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import { type ConnectSchema, compactJson, flavorOf, rowDecoder } from '../../src/source/debezium/logical-types';
import { binlogStatusPrivilege, binlogStatusStatement, parseServerVersion } from '../../src/source/mysql/server';

describe('source servers > SELECT VERSION()', () => {
  // What servers of each kind answer: the local stack's MariaDB; Debian 12's MariaDB with the
  // binlog on; Ubuntu 24.04's MariaDB 11.4; Aurora MySQL 3.05.2, whose VERSION() is the community
  // version it is built on (AWS, "Amazon Aurora versioning"); Percona Server 8.0 (base version,
  // then build); RDS MySQL 8.4. Then the version boundaries: MariaDB 10.5.2, MySQL 8.2.0.
  it.each([
    ['10.11.19-MariaDB-0+deb12u1-log', 'mariadb', 10, 11, 19, 'SHOW MASTER STATUS', 'BINLOG MONITOR'],
    ['10.11.6-MariaDB-0+deb12u1-log', 'mariadb', 10, 11, 6, 'SHOW MASTER STATUS', 'BINLOG MONITOR'],
    ['11.4.13-MariaDB-ubu2404', 'mariadb', 11, 4, 13, 'SHOW MASTER STATUS', 'BINLOG MONITOR'],
    ['8.0.32', 'mysql', 8, 0, 32, 'SHOW MASTER STATUS', 'REPLICATION CLIENT'],
    ['8.0.28-19', 'mysql', 8, 0, 28, 'SHOW MASTER STATUS', 'REPLICATION CLIENT'],
    ['8.4.3', 'mysql', 8, 4, 3, 'SHOW BINARY LOG STATUS', 'REPLICATION CLIENT'],
    ['10.5.1-MariaDB', 'mariadb', 10, 5, 1, 'SHOW MASTER STATUS', 'REPLICATION CLIENT'],
    ['10.5.2-MariaDB', 'mariadb', 10, 5, 2, 'SHOW MASTER STATUS', 'BINLOG MONITOR'],
    ['8.1.0', 'mysql', 8, 1, 0, 'SHOW MASTER STATUS', 'REPLICATION CLIENT'],
    ['8.2.0', 'mysql', 8, 2, 0, 'SHOW BINARY LOG STATUS', 'REPLICATION CLIENT'],
  ] as const)('%s: %s %i.%i.%i, %s, %s', (version, kind, major, minor, patch, statement, privilege) => {
    const server = parseServerVersion(version);
    expect(server).toEqual({ kind, major, minor, patch, version });
    expect(binlogStatusStatement(server)).toBe(statement);
    expect(binlogStatusPrivilege(server)).toBe(privilege);
  });

  it('refuses a version it cannot read, naming it', () => {
    expect(() => parseServerVersion('unknown')).toThrow('cannot read the server version "unknown"');
  });
});

const documented = (connector: 'mysql' | 'mariadb') =>
  readFileSync(join(__dirname, '..', 'fixtures', 'debezium', 'documented', `${connector}.jsonl`), 'utf8')
    .trim()
    .split('\n');

describe('source servers > the MySQL and MariaDB connectors’ events', () => {
  it.each(['mysql', 'mariadb'] as const)(
    '%s: create, update and delete decode to the same changes, positioned by file, pos and row',
    async (connector) => {
      const decoder = new JsonEnvelopeDecoder();
      const events = [];
      for (const [i, text] of documented(connector).entries()) {
        const decoded = await decoder.decode(Buffer.from(text), { topic: 't', partition: 0, offset: String(i) });
        if (decoded.kind !== 'change') throw new Error(`message ${i} decoded to ${decoded.kind}`);
        events.push(decoded.event);
      }
      expect(events.map((e) => [e.op, e.table, e.after?.first_name ?? null, e.position.version])).toEqual([
        ['create', 'inventory.customers', 'Anne', formatVersion(3n, 154, 0, 2, 0)],
        ['update', 'inventory.customers', 'Anne Marie', formatVersion(3n, 484, 0, 2, 1465581029100)],
        ['delete', 'inventory.customers', null, formatVersion(3n, 805, 0, 1, 1465581902300)],
      ]);
      expect(events.every((e) => e.position.snapshot === false)).toBe(true);
    },
  );

  it('reads the same position whatever GTID the block carries: MySQL uuid:seq, MariaDB domain-server-seq', async () => {
    const decoder = new JsonEnvelopeDecoder();
    const withGtid = async (connector: 'mysql' | 'mariadb', gtid: string) => {
      const message = JSON.parse(documented(connector)[1] as string) as { payload: { source: { gtid: string } } };
      message.payload.source.gtid = gtid;
      const decoded = await decoder.decode(Buffer.from(JSON.stringify(message)), {
        topic: 't',
        partition: 0,
        offset: '1',
      });
      return decoded.kind === 'change' ? decoded.event.position.version : undefined;
    };
    const expected = formatVersion(3n, 484, 0, 2, 1465581029100);
    expect(await withGtid('mysql', '3e11fa47-71ca-11e1-9e33-c80aa9429562:23')).toBe(expected);
    expect(await withGtid('mariadb', '0-223344-23')).toBe(expected);
  });
});

describe('source servers > MySQL’s JSON columns', () => {
  const schemaOf = (connector: 'mysql' | 'mariadb') =>
    (JSON.parse(documented(connector)[0] as string) as { schema: ConnectSchema }).schema;
  const jsonRow = { type: 'struct', fields: [{ field: 'doc', type: 'string', name: 'io.debezium.data.Json' }] };

  it('compacts JSON text from the MySQL connector only (MariaDB keeps the text it stores)', () => {
    const text = '{"a": 1, "b": ["x, y", "q: \\"z\\""]}';
    expect(rowDecoder(jsonRow, flavorOf(schemaOf('mysql')))({ doc: text })).toEqual({
      doc: '{"a":1,"b":["x, y","q: \\"z\\""]}',
    });
    expect(rowDecoder(jsonRow, flavorOf(schemaOf('mariadb')))({ doc: text })).toEqual({ doc: text });
  });

  it('gives MySQL’s two renderings of one value (snapshot: a space after , and :; binlog: none) one text', () => {
    // MySQL's display form, which its snapshot and CAST(... AS CHAR) give.
    const mysqlText = (value: unknown): string =>
      Array.isArray(value)
        ? `[${value.map(mysqlText).join(', ')}]`
        : value !== null && typeof value === 'object'
          ? `{${Object.entries(value)
              .map(([k, v]) => `${JSON.stringify(k)}: ${mysqlText(v)}`)
              .join(', ')}}`
          : JSON.stringify(value);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(compactJson(mysqlText(value))).toBe(JSON.stringify(value));
        expect(compactJson(JSON.stringify(value))).toBe(JSON.stringify(value));
      }),
    );
  });
});
