/**
 * A partition that reads a new change at an earlier binlog position than one it has read: a
 * failover (or RESET MASTER), told from the connector sending changes again after a restart.
 * The events are Debezium's documented MySQL and MariaDB update (test/fixtures/debezium/documented)
 * with the `source` block a failover gives, as Debezium's binlog reader fills it in (the GTID
 * transaction's id and commit time, the new server's file and the rows event's pos), and a
 * generated history of servers, failovers and restarts. Needs nothing running.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ChangeEvent } from '../../src/core/change-event';
import { UnorderedChangeError } from '../../src/core/errors';
import { type SourceRead, SourceOrderGuard, type SourceReads } from '../../src/pipeline/source-order';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import { positionOf, transactionOf } from '../../src/source/debezium/position';

type Connector = 'mysql' | 'mariadb';
interface Block {
  file: string;
  pos: number;
  gtid: string | null;
  ts_ms: number;
  snapshot?: string;
}

const template = (connector: Connector) =>
  JSON.parse(
    readFileSync(join(__dirname, '..', 'fixtures', 'debezium', 'documented', `${connector}.jsonl`), 'utf8')
      .trim()
      .split('\n')[1] as string,
  ) as { payload: { source: Record<string, unknown> } };

/** Decodes the documented update with `block` in its source, as message `offset` of partition 0. */
async function documentedChange(connector: Connector, block: Block, offset: number): Promise<ChangeEvent> {
  const message = template(connector);
  Object.assign(message.payload.source, { snapshot: false, ...block });
  const decoded = await new JsonEnvelopeDecoder().decode(Buffer.from(JSON.stringify(message)), {
    topic: `${connector}.inventory.customers`,
    partition: 0,
    offset: String(offset),
  });
  if (decoded.kind !== 'change') throw new Error(`decoded to ${decoded.kind}`);
  return decoded.event;
}

/** Runs changes through one guard; the index of the one refused, or -1. */
function refusedAt(events: ChangeEvent[], guard = new SourceOrderGuard()): number {
  for (const [i, event] of events.entries()) {
    try {
      guard.check(event, event.origin);
    } catch (err) {
      if (err instanceof UnorderedChangeError) return i;
      throw err;
    }
  }
  return -1;
}

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '5f2c1e7a-8b3d-11ef-a1b2-0242ac120003';
const T = 1_764_979_200_000;

describe('source order > GTIDs', () => {
  it('reads both connectors’ GTIDs: MySQL uuid:seq and uuid:tag:seq, MariaDB domain-server-seq', () => {
    expect(transactionOf(`${A.toUpperCase()}:23`)).toEqual({
      id: `${A.toUpperCase()}:23`,
      origin: A,
      sequence: 23n,
      commitClock: 'commit',
    });
    expect(transactionOf(`${A}:tag1:7`)).toMatchObject({ origin: `${A}:tag1`, sequence: 7n });
    expect(transactionOf('0-1-6157')).toEqual({
      id: '0-1-6157',
      origin: 'domain 0',
      sequence: 6157n,
      commitClock: 'statement',
    });
    expect(transactionOf(null)).toBeUndefined();
    expect(transactionOf('a set, not a transaction: 0-1-5,1-2-7')).toBeUndefined();
    // A snapshot read has no GTID.
    expect(positionOf({ file: 'b.000003', pos: 4, snapshot: 'true', gtid: null }, 'r').transaction).toBeUndefined();
  });
});

describe('source order > a failover in one partition', () => {
  // Server A's binlog: three transactions of A. Then A fails and B, its replica, is promoted:
  // Debezium reads B's binlog from its GTID set. B's files are its own, numbered from 1.
  const onA = [
    { file: 'mysql-bin.000003', pos: 484, gtid: `${A}:1`, ts_ms: T },
    { file: 'mysql-bin.000003', pos: 805, gtid: `${A}:2`, ts_ms: T + 40 },
    { file: 'mysql-bin.000004', pos: 154, gtid: `${A}:3`, ts_ms: T + 90 },
  ];

  it('MySQL: a transaction of the new primary, earlier in its binlog, holds the partition', async () => {
    const events = await Promise.all(
      [...onA, { file: 'mysql-bin.000001', pos: 1203, gtid: `${B}:1`, ts_ms: T + 9_000 }].map((b, i) =>
        documentedChange('mysql', b, i),
      ),
    );
    expect(refusedAt(events)).toBe(3);
    const guard = new SourceOrderGuard();
    refusedAt(events.slice(0, 3), guard);
    expect(() => guard.check(events[3] as ChangeEvent, (events[3] as ChangeEvent).origin)).toThrow(
      `source failed over: mysql.inventory.customers[0]@3 is a new change (transaction ${B}:1) committed at 2025-12-06T00:00:09.000Z`,
    );
    // Retried, it is refused again: nothing after it is written.
    expect(() => guard.check(events[3] as ChangeEvent, (events[3] as ChangeEvent).origin)).toThrow(
      UnorderedChangeError,
    );
  });

  it('MySQL: so is a transaction of the old primary that B replicated but Debezium had not read', async () => {
    const events = await Promise.all(
      [...onA, { file: 'mysql-bin.000001', pos: 990, gtid: `${A}:4`, ts_ms: T + 120 }].map((b, i) =>
        documentedChange('mysql', b, i),
      ),
    );
    expect(refusedAt(events)).toBe(3);
  });

  it('MySQL: the connector sending changes again after a restart, from either server, passes', async () => {
    const again = [
      { file: 'mysql-bin.000003', pos: 805, gtid: `${A}:2`, ts_ms: T + 40 },
      { file: 'mysql-bin.000001', pos: 700, gtid: `${A}:3`, ts_ms: T + 90 },
      { file: 'mysql-bin.000004', pos: 900, gtid: `${A}:4`, ts_ms: T + 150 },
    ];
    const events = await Promise.all([...onA, ...again].map((b, i) => documentedChange('mysql', b, i)));
    expect(refusedAt(events)).toBe(-1);
  });

  it('MariaDB: the domain’s numbering carries on over the promoted server’s earlier position', async () => {
    const blocks = [
      { file: 'mariadb-bin.000007', pos: 484, gtid: '0-223344-6157', ts_ms: T },
      { file: 'mariadb-bin.000007', pos: 805, gtid: '0-223344-6158', ts_ms: T + 1_000 },
      // Sent again after a restart: passes.
      { file: 'mariadb-bin.000007', pos: 484, gtid: '0-223344-6157', ts_ms: T },
      { file: 'mariadb-bin.000002', pos: 342, gtid: '0-223345-6159', ts_ms: T + 5_000 },
    ];
    const events = await Promise.all(blocks.map((b, i) => documentedChange('mariadb', b, i)));
    expect(refusedAt(events)).toBe(3);
  });

  it('without GTIDs: time tells RESET MASTER from a restart, and a message read again is not checked twice', async () => {
    const blocks = [
      { file: 'mysql-bin.000003', pos: 484, gtid: null, ts_ms: T },
      { file: 'mysql-bin.000003', pos: 805, gtid: null, ts_ms: T + 1_000 },
      // Sent again, earlier by time: passes. A long transaction's first statement time can be
      // later than a change after it in the binlog, by less than a minute: passes.
      { file: 'mysql-bin.000003', pos: 484, gtid: null, ts_ms: T },
      { file: 'mysql-bin.000003', pos: 600, gtid: null, ts_ms: T + 45_000 },
      // RESET MASTER: the binlog starts again at file 1 while time goes on.
      { file: 'mysql-bin.000001', pos: 154, gtid: null, ts_ms: T + 600_000 },
    ];
    const events = await Promise.all(blocks.map((b, i) => documentedChange('mysql', b, i)));
    expect(refusedAt(events)).toBe(4);
    const guard = new SourceOrderGuard();
    refusedAt(events.slice(0, 2), guard);
    // A batch retried: its messages come again at the same offsets.
    expect(refusedAt(events.slice(0, 2), guard)).toBe(-1);
  });

  it('leaves snapshot reads to their versions, and keeps partitions apart', async () => {
    const streamed = await documentedChange('mysql', onA[2] as Block, 0);
    const read = await documentedChange('mysql', { ...(onA[0] as Block), snapshot: 'incremental' }, 1);
    const otherPartition = { ...(await documentedChange('mysql', { ...(onA[0] as Block), gtid: `${A}:9` }, 2)) };
    const moved = { ...otherPartition, origin: { ...otherPartition.origin, partition: 1 } };
    expect(refusedAt([streamed, read, moved])).toBe(-1);
  });
});

describe('source order > kept between processes', () => {
  /** SourceReads in memory, as the deletes table keeps them: a read only moves forward. */
  const memory = () => {
    const kept = new Map<string, SourceRead>();
    const reads: SourceReads & { saves: number } = {
      saves: 0,
      load: async (topic, partition) => kept.get(`${topic}/${partition}`),
      save: async (topic, partition, read) => {
        reads.saves++;
        const before = kept.get(`${topic}/${partition}`);
        if (!before || BigInt(before.offset) < BigInt(read.offset)) kept.set(`${topic}/${partition}`, read);
      },
    };
    return reads;
  };
  const onA = [
    { file: 'mysql-bin.000003', pos: 484, gtid: `${A}:1`, ts_ms: T },
    { file: 'mysql-bin.000004', pos: 154, gtid: `${A}:2`, ts_ms: T + 90 },
  ];
  const topic = 'mysql.inventory.customers';

  it('a process starting on a partition checks its first change against the read kept before it', async () => {
    const reads = memory();
    const before = new SourceOrderGuard(reads);
    await before.seed(topic, 0);
    expect(refusedAt(await Promise.all(onA.map((b, i) => documentedChange('mysql', b, i))), before)).toBe(-1);
    await before.save(topic, 0);
    expect(reads.saves).toBe(1);

    const promoted = await documentedChange(
      'mysql',
      { file: 'mysql-bin.000001', pos: 900, gtid: `${B}:1`, ts_ms: T + 5_000 },
      2,
    );
    const resent = await documentedChange('mysql', onA[1] as Block, 2);
    const after = new SourceOrderGuard(reads);
    await after.seed(topic, 0);
    expect(refusedAt([promoted], after)).toBe(0);
    // The same message to a process that keeps nothing: nothing to check it against.
    expect(refusedAt([promoted], new SourceOrderGuard())).toBe(-1);
    // The connector sending the old server's change again passes, as within one process.
    const again = new SourceOrderGuard(reads);
    await again.seed(topic, 0);
    expect(refusedAt([resent], again)).toBe(-1);
  });

  it('keeps a read once it moved, at most every five seconds; a kept read never moves back', async () => {
    const reads = memory();
    const guard = new SourceOrderGuard(reads);
    const events = await Promise.all(onA.map((b, i) => documentedChange('mysql', b, i)));
    refusedAt(events.slice(0, 1), guard);
    await guard.save(topic, 0, 1_000_000);
    refusedAt(events.slice(1), guard);
    await guard.save(topic, 0, 1_003_000);
    expect(reads.saves).toBe(1);
    await guard.save(topic, 0, 1_006_000);
    await guard.save(topic, 0, 1_020_000);
    expect(reads.saves).toBe(2);
    expect((await reads.load(topic, 0))?.offset).toBe('1');
    await reads.save(topic, 0, { offset: '0', version: 'v1:x@0', latestCommitMs: 0, sequences: {} });
    expect((await reads.load(topic, 0))?.offset).toBe('1');
  });
});

// A generated history: Debezium reads one server after another (a failover each time), from
// a random place in each server's binlog; transactions come from one of three origins (a failback
// carries an origin's numbering on), commit times rise, and a failover takes over two minutes
// (so that time alone also tells a RESET MASTER-like jump without GTIDs). The partition gets
// some rows of some transactions, and a restart sends the last few messages again, at their
// positions or, with GTIDs, at the new server's. The guard must refuse exactly the first change never sent
// before that sits earlier in the binlog than one already read.
const history = fc
  .record({
    flavor: fc.constantFrom('mysql', 'mariadb', 'none'),
    servers: fc.array(
      fc.record({
        file: fc.integer({ min: 1, max: 4 }),
        pos: fc.integer({ min: 4, max: 5_000 }),
        transactions: fc.array(
          fc.record({
            origin: fc.integer({ min: 0, max: 2 }),
            step: fc.integer({ min: 1, max: 3_000 }),
            rows: fc.integer({ min: 1, max: 3 }),
            restart: fc.option(fc.record({ last: fc.integer({ min: 1, max: 4 }), moved: fc.boolean() })),
          }),
          { maxLength: 6 },
        ),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ flavor, servers }) => {
    const counters = [0, 0, 0];
    const stream: { block: Block; row: number; fresh: boolean }[] = [];
    let ts = T;
    for (const server of servers) {
      let { file, pos } = server;
      ts += 121_000;
      for (const t of server.transactions) {
        pos += t.step;
        if (pos > 8_000) [file, pos] = [file + 1, t.step];
        ts += 1 + (t.step % 50);
        const sequence = ++counters[t.origin]!;
        const gtid =
          flavor === 'mysql'
            ? `${[A, B, '00000000-0000-0000-0000-00000000000c'][t.origin]}:${sequence}`
            : flavor === 'mariadb'
              ? `0-${t.origin + 1}-${counters.reduce((a, b) => a + b)}`
              : null;
        for (let row = 0; row < t.rows; row++)
          stream.push({
            block: { file: `mysql-bin.${String(file).padStart(6, '0')}`, pos, gtid, ts_ms: ts },
            row,
            fresh: true,
          });
        if (t.restart)
          for (const [k, sent] of stream.slice(-t.restart.last).entries())
            stream.push({
              ...sent,
              // Only a GTID lets Debezium go on from another server.
              block:
                t.restart.moved && flavor !== 'none'
                  ? { ...sent.block, file: `mysql-bin.${String(file).padStart(6, '0')}`, pos: pos + 1 + k }
                  : sent.block,
              fresh: false,
            });
        // The resent rows took the new server's next positions: its next transaction comes after them.
        if (t.restart?.moved && flavor !== 'none') pos += t.restart.last;
      }
    }
    return stream;
  });

describe('source order > any history of failovers and restarts', () => {
  it('refuses exactly the first new change read behind the furthest one', () => {
    fc.assert(
      fc.property(history, (stream) => {
        const events = stream.map(({ block, row }, i): ChangeEvent => ({
          op: 'update',
          table: 'inventory.customers',
          before: null,
          after: {},
          position: positionOf({ ...block, row, snapshot: 'false' }, 'u'),
          origin: { topic: 't', partition: 0, offset: String(i) },
        }));
        let furthest = '';
        let expected = -1;
        for (const [i, event] of events.entries()) {
          const at = event.position.version.slice(0, event.position.version.indexOf('@'));
          if (stream[i]!.fresh && at < furthest) {
            expected = i;
            break;
          }
          if (at > furthest) furthest = at;
        }
        expect(refusedAt(events)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
