import fc from 'fast-check';
import { compileMapping, defineMapping } from '../../src/mapping/define-mapping';
import { columnsRead, judgeSchemaChange } from '../../src/mapping/columns-read';
import { type RowSchema, diffSchemas, isEmptyDiff } from '../../src/core/row-schema';
import { rowSchemaOf } from '../../src/source/debezium/row-schema';

// Mappings over rows of any columns, as developers write them against a typed row.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

const schema = (...columns: Array<[string, string, unknown?]>): RowSchema => ({
  columns: columns.map(([name, type, d]) => ({
    name,
    type,
    optional: true,
    ...(d === undefined ? {} : { default: d }),
  })),
});
const mapping = compileMapping(
  defineMapping<Loose>({
    name: 'm',
    source: { table: 'db.t' },
    target: { table: 'ttt', partitionKey: 'pk' },
    filter: (row) => row.status !== 'draft',
    key: (row) => ({ pk: `T#${row.id}` }),
    item: (row) => ({
      a: row.a.toLowerCase(),
      total: row.price.times(row.qty).toFixed(2),
      tag: `${row.first} ${row.last}`,
    }),
  }),
);

describe('mapping > columns read', () => {
  it('sees every column each function reads, past a filter that says no and through method calls', () => {
    const never = compileMapping(
      defineMapping<Loose>({
        name: 'n',
        source: { table: 'db.t' },
        target: { table: 'ttt', partitionKey: 'pk' },
        filter: (row) => row.deleted === 1,
        key: (row) => ({ pk: String(row.id) }),
        item: (row) => ({ b: row.b }),
      }),
    );
    expect([...(columnsRead(never, ['id', 'b', 'deleted']) as Set<string>)].sort()).toEqual(['b', 'deleted', 'id']);
    expect([...(columnsRead(mapping, []) as Set<string>)].sort()).toEqual([
      'a',
      'first',
      'id',
      'last',
      'price',
      'qty',
      'status',
    ]);
  });

  it("says 'every' for a mapping that copies the whole row", () => {
    const copy = compileMapping(
      defineMapping<Loose>({
        name: 'c',
        source: { table: 'db.t' },
        target: { table: 'ttt', partitionKey: 'pk' },
        key: (row) => ({ pk: String(row.id) }),
        item: (row) => ({ ...row }),
      }),
    );
    expect(columnsRead(copy, ['id', 'x'])).toBe('every');
  });
});

describe('source > debezium > schema changes', () => {
  const before = schema(['id', 'int32'], ['a', 'string'], ['price', 'bytes/Decimal'], ['note', 'string']);

  it('finds added, dropped, renamed (same place, same type) and retyped columns', () => {
    const after = schema(['id', 'int64'], ['c', 'string'], ['price', 'bytes/Decimal'], ['b', 'int32', 7]);
    expect(diffSchemas(before, after)).toEqual({
      added: [{ name: 'b', type: 'int32', optional: true, default: 7 }],
      removed: [{ name: 'note', type: 'string', optional: true }],
      renamed: [{ from: 'a', to: 'c' }],
      retyped: [{ name: 'id', from: 'int32', to: 'int64' }],
    });
  });

  it('is empty for the same columns, whatever the generated schemas', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('int32', 'string', 'int64')), {
          selector: ([n]) => n,
        }),
        (columns) => isEmptyDiff(diffSchemas(schema(...columns), schema(...columns))),
      ),
    );
  });

  it('judges: harmless when the mapping reads none of it; rows may differ; the mapping breaks', () => {
    const reads = columnsRead(
      mapping,
      before.columns.map((c) => c.name),
    );
    expect(
      judgeSchemaChange(
        diffSchemas(
          before,
          schema(...before.columns.map((c) => [c.name, c.type] as [string, string]), ['extra', 'int32', 0]),
        ),
        reads,
      ),
    ).toEqual({
      class: 'harmless',
      reasons: [],
    });
    expect(
      judgeSchemaChange(
        diffSchemas(before, schema(['id', 'int32'], ['a', 'string'], ['price', 'bytes/Decimal'])),
        reads,
      ).class,
    ).toBe('harmless');
    expect(
      judgeSchemaChange(
        diffSchemas(before, schema(['id', 'int32'], ['a', 'string'], ['price', 'string'], ['note', 'string'])),
        reads,
      ),
    ).toEqual({ class: 'existing rows may differ', reasons: ['price changed type from bytes/Decimal to string'] });
    expect(
      judgeSchemaChange(
        diffSchemas(
          before,
          schema(['id', 'int32'], ['a', 'string'], ['price', 'bytes/Decimal'], ['note', 'string'], ['qty', 'int32', 1]),
        ),
        reads,
      ),
    ).toEqual({ class: 'existing rows may differ', reasons: ['qty was added with default 1'] });
    expect(
      judgeSchemaChange(
        diffSchemas(before, schema(['id', 'int32'], ['c', 'string'], ['price', 'bytes/Decimal'], ['note', 'string'])),
        reads,
      ),
    ).toEqual({ class: 'mapping breaks', reasons: ['a was renamed to c'] });
  });

  it('reads columns, types and defaults from a Connect row schema', () => {
    expect(
      rowSchemaOf({
        type: 'struct',
        fields: [
          { type: 'int32', field: 'id', optional: false },
          { type: 'string', field: 's', optional: true, name: 'io.debezium.data.Enum', default: 'x' } as never,
        ],
      }),
    ).toEqual({
      columns: [
        { name: 'id', type: 'int32', optional: false },
        { name: 's', type: 'string/io.debezium.data.Enum', optional: true, default: 'x' },
      ],
    });
  });
});
