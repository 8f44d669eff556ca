import type { WriteIntent } from '../../src/core/write-intent';
import { changes } from '../../src/mapping/testing';
import { coalesce } from '../../src/pipeline/coalesce';

const event = changes.insert('db.t', { id: 1 });
const put = (pk: string, n: number): WriteIntent => ({
  kind: 'put',
  table: 'T',
  key: { pk },
  item: { pk, n },
  attributes: { pk: { S: pk }, n: { N: String(n) } },
  event,
});
const del = (pk: string): WriteIntent => ({
  kind: 'delete',
  table: 'T',
  key: { pk },
  keyAttributes: { pk: { S: pk } },
  event,
});

describe('pipeline > coalesce', () => {
  it('keeps the last intent per item, in the order of last occurrence', () => {
    expect(coalesce([put('a', 1), put('b', 1), put('a', 2), del('b'), put('c', 1)])).toEqual([
      put('a', 2),
      del('b'),
      put('c', 1),
    ]);
  });

  it('lets a delete followed by a put resurrect the item', () => {
    expect(coalesce([del('a'), put('a', 3)])).toEqual([put('a', 3)]);
  });

  it('keeps items of different tables apart', () => {
    const other: WriteIntent = { ...put('a', 1), table: 'U' };
    expect(coalesce([put('a', 1), other])).toHaveLength(2);
  });
});
