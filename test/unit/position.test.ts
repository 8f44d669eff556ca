import { positionOf } from '../../src/source/debezium/position';

describe('source > debezium > position', () => {
  it('orders by binlog file, then position, then row', () => {
    const v = (file: string, pos: number, row = 0) =>
      positionOf({ file, pos, row, snapshot: 'false', ts_ms: 1 }, 'u').version;
    expect(v('mariadb-bin.000002', 4) > v('mariadb-bin.000001', 999_999)).toBe(true);
    expect(v('mariadb-bin.000001', 1200) > v('mariadb-bin.000001', 990)).toBe(true);
    expect(v('mariadb-bin.000001', 990, 2) > v('mariadb-bin.000001', 990, 1)).toBe(true);
  });

  it('sorts a snapshot read before a streamed change at the same coordinates', () => {
    const snapshot = positionOf({ file: 'b.000003', pos: 500, snapshot: 'true' }, 'r');
    const streamed = positionOf({ file: 'b.000003', pos: 500, snapshot: 'false' }, 'u');
    expect(snapshot.snapshot).toBe('initial');
    expect(positionOf({ file: 'b.000003', pos: 500, snapshot: 'incremental' }, 'r').snapshot).toBe('incremental');
    expect(streamed.version > snapshot.version).toBe(true);
  });

  it('sorts the delete half of a primary-key change before its create half', () => {
    const source = { file: 'b.000003', pos: 900, row: 2, snapshot: 'false' };
    expect(positionOf(source, 'c').version > positionOf(source, 'd').version).toBe(true);
  });

  it('refuses a source block without binlog coordinates', () => {
    expect(() => positionOf({ pos: 4 }, 'c')).toThrow(/no binlog coordinates/);
  });
});
