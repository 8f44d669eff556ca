/**
 * How Debezium 3.2's MariaDB connector positions changes, read from real captured messages
 * (test/fixtures/debezium, see scripts/capture-fixtures.ts), and what ferry's versions make of
 * them. Needs nothing running.
 */
import type { ChangeEvent } from '../../src/core/change-event';
import { AvroEnvelopeDecoder } from '../../src/source/debezium/avro-decoder';
import type { EnvelopeDecoder } from '../../src/source/debezium/envelope';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import {
  type FixtureMessage,
  type Variant,
  fakeRegistry,
  loadMessages,
  valueBuffer,
  variants,
} from '../fixtures/debezium/fixtures';

interface Source {
  file: string;
  pos: number;
  row: number;
  snapshot: string;
  gtid: string | null;
}

interface Captured {
  message: FixtureMessage;
  event: ChangeEvent;
}

const rowId = (e: ChangeEvent) => Number((e.after ?? e.before)?.id);

async function decodeVariant(variant: Variant): Promise<Captured[]> {
  const registry = variant.format === 'avro' ? await fakeRegistry(variant) : undefined;
  try {
    const decoder: EnvelopeDecoder = registry
      ? new AvroEnvelopeDecoder({ url: registry.url })
      : new JsonEnvelopeDecoder();
    const captured: Captured[] = [];
    for (const message of loadMessages(variant)) {
      const decoded = await decoder.decode(valueBuffer(variant, message), {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
      });
      if (decoded.kind === 'change') captured.push({ message, event: decoded.event });
    }
    return captured;
  } finally {
    await registry?.close();
  }
}

const jsonPrecise = variants.find((v) => v.name === 'json-precise') as Variant;

/** The `source` block of a JSON message, as Debezium wrote it. */
const sourceOf = (m: FixtureMessage) =>
  (JSON.parse(m.value as string) as { payload: { source: Source } }).payload.source;

describe('source > debezium > positions of real MariaDB changes', () => {
  let changes: Captured[];
  const find = (op: ChangeEvent['op'], id: number) => changes.filter((c) => c.event.op === op && rowId(c.event) === id);
  const one = (op: ChangeEvent['op'], id: number) => {
    const found = find(op, id);
    expect(found).toHaveLength(1);
    return found[0] as Captured;
  };

  beforeAll(async () => {
    changes = await decodeVariant(jsonPrecise);
  });

  it('maps Debezium operations: r -> snapshot, c -> create, u -> update, d -> delete', () => {
    const opOf = (c: Captured) => (JSON.parse(c.message.value as string) as { payload: { op: string } }).payload.op;
    const pairs = new Set(changes.map((c) => `${opOf(c)}->${c.event.op}`));
    expect([...pairs].sort()).toEqual(['c->create', 'd->delete', 'r->snapshot', 'u->update']);
    for (const c of changes) expect(c.event.position.snapshot).toBe(c.event.op === 'snapshot' && 'initial');
  });

  it('(a) snapshot rows all carry the binlog position where the snapshot started, row 0', () => {
    const snapshot = changes.filter((c) => c.event.op === 'snapshot');
    expect(snapshot.map((c) => rowId(c.event)).sort()).toEqual([1, 2, 3, 4]);
    const sources = snapshot.map((c) => sourceOf(c.message));
    const first = sources[0] as Source;
    for (const s of sources) {
      expect({ file: s.file, pos: s.pos, row: s.row, gtid: s.gtid }).toEqual({
        file: first.file,
        pos: first.pos,
        row: 0,
        gtid: null,
      });
    }
    // 'first' for the first row read, 'last' for the last one, 'true' in between.
    expect(sources.map((s) => s.snapshot).sort()).toEqual(['first', 'last', 'true', 'true']);
    // One version for all of them, phase 0.
    expect(new Set(snapshot.map((c) => c.event.position.version)).size).toBe(1);
    expect(snapshot[0]?.event.position.version).toMatch(/^v1:\d{10}-\d{20}-0{10}-0@\d{15}$/);
    // Everything streamed sits after it.
    const streamed = changes.filter((c) => c.event.op !== 'snapshot').map((c) => sourceOf(c.message));
    for (const s of streamed) {
      expect(s.file).toBe(first.file);
      expect(s.pos).toBeGreaterThan(first.pos);
      expect(s.snapshot).toBe('false');
    }
  });

  it('(b) two UPDATEs of one row in one transaction are two rows events: positions differ', () => {
    const [first, second] = find('update', 1)
      .map((c) => c.message)
      .map(sourceOf);
    expect(first && second).toBeTruthy();
    const [a, b] = [first as Source, second as Source];
    expect(a.gtid).toBe(b.gtid); // one transaction
    expect(a.row).toBe(0);
    expect(b.row).toBe(0);
    expect(b.pos).toBeGreaterThan(a.pos);
  });

  it('(c) one INSERT of two rows is one rows event: same position, rows 0 and 1', () => {
    const a = sourceOf(one('create', 30).message);
    const b = sourceOf(one('create', 31).message);
    expect(b.pos).toBe(a.pos);
    expect([a.row, b.row]).toEqual([0, 1]);
  });

  it('(d) a primary-key change is one binlog row: delete and create share file, pos and row; the phase orders them', () => {
    const del = one('delete', 11);
    const create = one('create', 21);
    const [d, c] = [sourceOf(del.message), sourceOf(create.message)];
    expect({ file: c.file, pos: c.pos, row: c.row }).toEqual({ file: d.file, pos: d.pos, row: d.row });
    expect(del.message.partition).not.toBe(create.message.partition);
    const positionPart = (c: Captured) => c.event.position.version.split('@')[0] as string;
    const [delAt, createAt] = [positionPart(del), positionPart(create)];
    expect(delAt.slice(0, -1)).toBe(createAt.slice(0, -1));
    expect(delAt.endsWith('-1')).toBe(true);
    expect(createAt.endsWith('-2')).toBe(true);
    expect(create.event.position.version > del.event.position.version).toBe(true);
  });

  it('no two changes of the same key carry the same version', () => {
    const seen = new Map<string, string>();
    for (const c of changes) {
      const key = `${c.message.key}@${c.event.position.version}`;
      expect(seen.get(key)).toBeUndefined();
      seen.set(key, c.message.offset);
    }
  });

  it("versions strictly increase in Kafka order along each key's history, snapshot first", () => {
    const byKey = new Map<string, Captured[]>();
    for (const c of changes) {
      const k = `${c.message.partition}/${c.message.key}`;
      byKey.set(k, [...(byKey.get(k) ?? []), c]);
    }
    let histories = 0;
    for (const history of byKey.values()) {
      const ordered = [...history].sort((a, b) => Number(BigInt(a.message.offset) - BigInt(b.message.offset)));
      for (let i = 1; i < ordered.length; i++) {
        expect(
          (ordered[i] as Captured).event.position.version > (ordered[i - 1] as Captured).event.position.version,
        ).toBe(true);
      }
      if (ordered.length > 1) histories++;
    }
    // Rows 1 (r, u, u), 2 (r, d), 12 (c, u), 14 (c, d), 11 (c, d).
    expect(histories).toBe(5);
    const snapshotVersions = changes.filter((c) => c.event.position.snapshot).map((c) => c.event.position.version);
    const streamedVersions = changes.filter((c) => !c.event.position.snapshot).map((c) => c.event.position.version);
    for (const s of snapshotVersions) for (const v of streamedVersions) expect(s < v).toBe(true);
  });

  it('gives every variant (JSON or Avro, any decimal mode) the same versions: one binlog', async () => {
    // A snapshot read carries the time it was read, which differs between the variants' snapshots.
    const comparable = ({ version, snapshot }: Captured['event']['position']) =>
      snapshot ? version.split('@')[0] : version;
    const signature = (cs: Captured[]) =>
      cs.map((c) => `${c.event.op}:${rowId(c.event)}:${comparable(c.event.position)}`).sort();
    const expected = signature(changes);
    for (const variant of variants.filter((v) => v !== jsonPrecise)) {
      expect({ variant: variant.name, versions: signature(await decodeVariant(variant)) }).toEqual({
        variant: variant.name,
        versions: expected,
      });
    }
  });
});
