import { compileMapping, defineMapping } from '../../src/mapping/define-mapping';
import { VERSION_ATTRIBUTE } from '../../src/core/version';
import { changes, runMapping } from '../../src/mapping/testing';

const base = {
  name: 'orders',
  source: { table: 'shop.orders' },
  target: { table: 'Orders', partitionKey: 'pk', sortKey: 'sk' },
};

describe('mapping > define and apply', () => {
  it('names the mapping and the field when a definition is invalid', () => {
    expect(() => compileMapping({ ...base, target: { table: 'Orders' }, key: () => ({}), item: () => ({}) })).toThrow(
      'mapping "orders": target.partitionKey must be',
    );
    expect(() => compileMapping({ ...base, source: { table: 'orders' }, key: () => ({}), item: () => ({}) })).toThrow(
      'mapping "orders": source.table must be "db.table"',
    );
    expect(() => compileMapping({ ...base })).toThrow('mapping "orders": key is missing');
    expect(() => compileMapping(undefined, 'mappings/x.ts')).toThrow('mappings/x.ts: the default export');
  });

  it('declares a source key for a table without one: a non-empty list of distinct column names', () => {
    const fns = { key: () => ({ pk: 'x' }), item: () => ({}) };
    const keyed = (key: unknown) => compileMapping({ ...base, ...fns, source: { table: 'shop.legacy', key } });
    expect(keyed(['code', 'region']).sourceKey).toEqual(['code', 'region']);
    expect(compileMapping({ ...base, ...fns }).sourceKey).toBeUndefined();
    for (const bad of [[], 'code', ['code', 'code'], [''], [1]])
      expect(() => keyed(bad)).toThrow(
        `mapping "orders": source.key must be a non-empty list of distinct column names, e.g. ['code']`,
      );
  });

  it('takes a retry limit of whole numbers above 0, and none by default', () => {
    const fns = { key: () => ({ pk: 'x' }), item: () => ({}) };
    const limited = (retry: unknown) => compileMapping({ ...base, ...fns, retry });
    expect(compileMapping({ ...base, ...fns }).retry).toEqual({});
    expect(limited({ maxAttempts: 3 }).retry).toEqual({ maxAttempts: 3 });
    expect(limited({ maxAttempts: 5, maxDurationMs: 60_000 }).retry).toEqual({ maxAttempts: 5, maxDurationMs: 60_000 });
    for (const bad of [0, -1, 1.5, '3', Infinity])
      expect(() => limited({ maxAttempts: bad })).toThrow(
        'mapping "orders": retry.maxAttempts must be a whole number above 0',
      );
    expect(() => limited({ maxDuration: 5 })).toThrow('retry has unknown fields maxDuration');
    expect(() => limited(3)).toThrow('retry must be { maxAttempts?, maxDurationMs? }');
  });

  it('deletes the keys a fan-out no longer produces', () => {
    const lines = defineMapping<{ id: number; skus: string[] }>({
      ...base,
      items: (row) => row.skus.map((sku) => ({ key: { pk: `ORDER#${row.id}`, sk: `LINE#${sku}` }, item: { sku } })),
    });
    const intents = runMapping(
      lines,
      changes.update('shop.orders', { id: 1, skus: ['a', 'b', 'c'] }, { id: 1, skus: ['a', 'c'] }),
    );
    expect(intents.filter((i) => i.kind === 'delete').map((i) => i.key.sk)).toEqual(['LINE#b']);
    expect(intents.filter((i) => i.kind === 'put').map((i) => i.key.sk)).toEqual(['LINE#a', 'LINE#c']);
  });

  it('treats a row that stops passing the filter as gone, and soft-deletes when asked', () => {
    const mapping = defineMapping<{ id: number; status: string }>({
      ...base,
      key: (row) => ({ pk: `ORDER#${row.id}`, sk: 'ORDER' }),
      item: (row) => ({ status: row.status }),
      filter: (row) => row.status !== 'draft',
      onDelete: { soft: 'deletedAt' },
    });
    const at = new Date('2024-05-01T00:00:00Z');
    const [intent] = runMapping(
      mapping,
      changes.update('shop.orders', { id: 1, status: 'paid' }, { id: 1, status: 'draft' }, at),
    );
    expect(intent).toEqual({
      kind: 'put',
      table: 'Orders',
      key: { pk: 'ORDER#1', sk: 'ORDER' },
      item: { pk: 'ORDER#1', sk: 'ORDER', status: 'paid', deletedAt: '2024-05-01T00:00:00.000Z' },
    });
    expect(runMapping(mapping, changes.insert('shop.orders', { id: 2, status: 'draft' }))).toEqual([]);
  });

  it('rejects bad keys, reserved attributes, oversized items, and passes on what the mapping throws', () => {
    const make = (
      key: (r: { id: number }) => Record<string, unknown>,
      item: (r: { id: number }) => Record<string, unknown>,
    ) => defineMapping<{ id: number }>({ ...base, key: key as never, item });
    const insert = changes.insert('shop.orders', { id: 1 });
    expect(() =>
      runMapping(
        make(
          () => ({ pk: 'A' }),
          () => ({}),
        ),
        insert,
      ),
    ).toThrow('invalid key {"pk":"A"}: missing "sk"');
    expect(() =>
      runMapping(
        make(
          () => ({ pk: 'A', sk: 'B', x: 1 }),
          () => ({}),
        ),
        insert,
      ),
    ).toThrow('unexpected attribute(s) x');
    expect(() =>
      runMapping(
        make(
          () => ({ pk: 1, sk: 'B' }),
          () => ({}),
        ),
        insert,
      ),
    ).toThrow('"pk" must be a non-empty string');
    expect(() =>
      runMapping(
        make(
          () => ({ pk: 'A', sk: 'B' }),
          () => ({ [VERSION_ATTRIBUTE]: 1 }),
        ),
        insert,
      ),
    ).toThrow('reserved');
    expect(() =>
      runMapping(
        make(
          () => ({ pk: 'A', sk: 'B' }),
          () => ({ blob: 'x'.repeat(410_000) }),
        ),
        insert,
      ),
    ).toThrow(/over DynamoDB's 409600-byte limit/);
    expect(() =>
      runMapping(
        make(
          () => ({ pk: 'A', sk: 'B' }),
          () => {
            throw new Error('boom');
          },
        ),
        insert,
      ),
    ).toThrow('mapping "orders" threw on the "after" row: Error: boom');
  });

  it('sends a TRUNCATE to the dead letters unless told to ignore it', () => {
    const mapping = defineMapping({ ...base, key: () => ({ pk: 'A', sk: 'B' }), item: () => ({}) });
    expect(() => runMapping(mapping, changes.truncate('shop.orders'))).toThrow(/TRUNCATE .* rebuild the target/);
    expect(runMapping({ ...mapping, onTruncate: 'ignore' }, changes.truncate('shop.orders'))).toEqual([]);
  });
});
