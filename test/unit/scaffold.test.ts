import fc from 'fast-check';
import ts from 'typescript';
import * as ferryApi from '../../src/index';
import { compileMapping } from '../../src/mapping/define-mapping';
import { scaffoldMapping, scaffoldName } from '../../src/mapping/scaffold';
import * as ferryTesting from '../../src/mapping/testing';
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

/**
 * Any MySQL table: its names may hold spaces, quotes, backticks, `${`, "€" or start with a digit.
 * The scaffolded module must load as a valid mapping, and the scaffolded test must pass as written.
 */
describe('mapping new > any table', () => {
  const modules = { ferry: ferryApi, 'ferry/testing': ferryTesting };

  /** Runs generated TypeScript as CommonJS: describe and it run their bodies at once, expect is jest's. */
  function run(code: string, imports: Record<string, unknown>): Record<string, unknown> {
    const out = ts.transpileModule(code, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
    });
    if (out.diagnostics?.length)
      throw new Error(
        `does not compile: ${ts.flattenDiagnosticMessageText(out.diagnostics[0]?.messageText ?? '', '\n')}\n${code}`,
      );
    const module = { exports: {} as Record<string, unknown> };
    const load = (id: string) => {
      if (!(id in imports)) throw new Error(`unexpected import ${id}`);
      return imports[id];
    };
    const now = (_name: string, body: () => void) => body();
    new Function('require', 'module', 'exports', 'describe', 'it', 'expect', out.outputText)(
      load,
      module,
      module.exports,
      now,
      now,
      expect,
    );
    return module.exports;
  }

  // MySQL names: up to 64 characters, not ending in a space, no NUL; or a name Object.prototype has.
  const name = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .string({
          unit: fc.constantFrom(
            'a',
            'Z',
            '7',
            '_',
            '-',
            ' ',
            "'",
            '"',
            '`',
            '$',
            '{',
            '}',
            '\\',
            '€',
            'é',
            '😀',
            '.',
            '#',
          ),
          minLength: 1,
          maxLength: 12,
        })
        .filter((n) => !n.endsWith(' ') && !n.includes('.')),
    },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty') },
  );
  const type = fc.constantFrom('int', 'bigint', 'varchar', 'decimal', 'date', 'datetime', 'enum', 'binary', 'json');
  const shapes = fc
    .record({
      db: name,
      table: name,
      columns: fc.uniqueArray(fc.record({ name, type, nullable: fc.boolean() }), {
        minLength: 1,
        maxLength: 5,
        selector: (c) => c.name,
      }),
      keyCount: fc.integer({ min: 1, max: 3 }),
    })
    .map(({ db, table, columns, keyCount }): TableShape => {
      const key = columns.slice(0, keyCount).map((c) => c.name);
      return {
        db,
        table,
        columns: columns.map((c) => ({
          ...column(c.name, c.type, c.type === 'datetime' ? 3 : 0),
          columnType: c.type === 'enum' ? "enum('it''s','b')" : c.type,
          nullable: c.nullable && !key.includes(c.name),
        })),
        primaryKey: key,
        uniqueKeys: [],
      };
    });

  it('loads as a mapping named for DynamoDB and Kafka, and its test passes as written', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const { module, test } = scaffoldMapping(shape, rowKey(shape));
        const name = scaffoldName(shape);
        expect(name).toMatch(/^[A-Za-z0-9_.-]{3,255}$/);
        const definition = run(module, modules).default;
        const mapping = compileMapping(definition, module);
        expect([mapping.name, mapping.sourceTable, mapping.targetTable]).toEqual([
          name,
          `${shape.db}.${shape.table}`,
          name,
        ]);
        run(test, { ...modules, [`./${name}`]: { __esModule: true, default: definition } });
      }),
      { numRuns: 300 },
    );
  });
});
