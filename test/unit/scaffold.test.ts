import { scaffoldMapping } from '../../src/mapping/scaffold';
import { rowKey } from '../../src/source/mysql/row-key';
import type { Column, TableShape } from '../../src/source/mysql/table-shape';

const column = (name: string, dataType: string, precision = 0): Column => ({
  name,
  dataType,
  columnType: dataType,
  nullable: false,
  precision,
});

/** The sample row of a scaffolded test holds each column as ferry's decoder would (README: "Values"). */
describe('mapping new > the scaffolded sample row', () => {
  const shape: TableShape = {
    db: 'shop',
    table: 'visits',
    columns: [
      column('day', 'date'),
      column('at', 'time', 6),
      column('seen', 'datetime', 0),
      column('seen_us', 'datetime', 6),
      column('stamped', 'timestamp', 6),
      column('extra', 'json'),
      column('order-ref', 'varchar'),
    ],
    primaryKey: ['day', 'order-ref'],
    uniqueKeys: [],
  };
  const { module, test } = scaffoldMapping(shape, rowKey(shape));

  it.each([
    ['day', "'2024-03-01'"],
    ['at', "'13:45:00.000000'"],
    ['seen', "'2024-03-01T13:45:00.000'"],
    ['seen_us', "'2024-03-01T13:45:00.000000'"],
    ['stamped', "'2024-03-01T13:45:00.000000Z'"],
    ['extra', "'{}'"],
    ["'order-ref'", "'order-ref'"],
  ])('%s: %s', (name, value) => {
    expect(test).toContain(`  ${name}: ${value},\n`);
  });

  it('names a column that is not an identifier in quotes, in the row type and the sample alike', () => {
    expect(module).toContain("  'order-ref': string;\n");
  });

  it('builds the sample key from the key columns as they appear in the item key', () => {
    expect(test).toContain("toPut({ pk: 'VISITS#2024-03-01#order-ref', sk: 'VISITS' })");
  });
});

describe('mapping new > imports', () => {
  const shapeWith = (nullable: boolean): TableShape => ({
    db: 'shop',
    table: 'prices',
    columns: [column('id', 'int'), { ...column('amount', 'decimal'), nullable }],
    primaryKey: ['id'],
    uniqueKeys: [],
  });

  it('imports Decimal into the test only when its sample row makes one (a lint would refuse it unused)', () => {
    const notNull = scaffoldMapping(shapeWith(false), rowKey(shapeWith(false)));
    expect(notNull.test).toContain("import { Decimal } from 'ferry';");
    expect(notNull.test).toContain("amount: Decimal.from('1.00'),");
    const nullable = scaffoldMapping(shapeWith(true), rowKey(shapeWith(true)));
    expect(nullable.test).not.toContain('import { Decimal }');
    // The row type names it either way.
    expect(nullable.module).toContain('type Decimal');
  });
});
