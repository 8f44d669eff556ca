import { isoDate, isoDateTime, isoTime, isoZonedTimestamp } from '../source/debezium/logical-types';
import type { RowKey } from '../source/mysql/row-key';
import type { Column, TableShape } from '../source/mysql/table-shape';

/** The TypeScript type of a column's value, by the rules ferry decodes with (see the README). */
export function columnType(c: Column): string {
  const base = (() => {
    switch (c.dataType) {
      case 'tinyint':
      case 'smallint':
      case 'mediumint':
      case 'int':
      case 'integer':
      case 'float':
      case 'double':
      case 'year':
        return 'number';
      case 'bigint':
        return 'number | bigint';
      case 'decimal':
      case 'numeric':
        return 'Decimal';
      case 'bit':
        return c.precision === 1 ? 'boolean' : 'bigint';
      case 'enum':
        return (
          enumValues(c.columnType)
            .map((v) => `'${v}'`)
            .join(' | ') || 'string'
        );
      case 'set':
        return `Array<${
          enumValues(c.columnType)
            .map((v) => `'${v}'`)
            .join(' | ') || 'string'
        }>`;
      case 'binary':
      case 'varbinary':
      case 'tinyblob':
      case 'blob':
      case 'mediumblob':
      case 'longblob':
        return 'Uint8Array';
      case 'geometry':
      case 'point':
      case 'linestring':
      case 'polygon':
        return '{ srid: number | null; wkb: Uint8Array; x?: number; y?: number }';
      default:
        return 'string';
    }
  })();
  return c.nullable ? `${base} | null` : base;
}

function enumValues(columnType: string): string[] {
  const inner = /^(?:enum|set)\((.*)\)$/i.exec(columnType)?.[1] ?? '';
  return [...inner.matchAll(/'((?:[^'\\]|''|\\.)*)'/g)].map((m) =>
    (m[1] as string).replace(/''/g, "'").replace(/'/g, "\\'"),
  );
}

const pascal = (name: string) => name.replace(/(^|[_\-\s]+)(\w)/g, (_m, _s, c: string) => c.toUpperCase());

/**
 * A mapping module, its test and a row type generated from the source table's columns; items are
 * keyed by the table's row key, and named key columns are declared as `source.key`.
 */
export function scaffoldMapping(shape: TableShape, rowKey: RowKey): { module: string; test: string } {
  const type = `${pascal(shape.table)}Row`;
  const needsDecimal = shape.columns.some((c) => c.dataType === 'decimal' || c.dataType === 'numeric');
  const keyExpr = rowKey.columns.map((k) => `\${row.${k}}`).join('#');
  const sourceKey = rowKey.origin.kind === 'named' ? `, key: [${rowKey.columns.map((k) => `'${k}'`).join(', ')}]` : '';
  const property = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `'${name}'`);
  const fields = shape.columns.map((c) => `  ${property(c.name)}: ${columnType(c)};`).join('\n');
  const sampleRow = shape.columns.map((c) => `  ${property(c.name)}: ${sampleValue(c)},`).join('\n');
  const module = `import { defineMapping${needsDecimal ? ', type Decimal' : ''} } from 'ferry';

/** Columns of ${shape.db}.${shape.table} as ferry decodes them (generated from information_schema). */
export interface ${type} {
${fields}
}

export default defineMapping<${type}>({
  name: '${shape.table}',
  source: { table: '${shape.db}.${shape.table}'${sourceKey} },
  target: { table: '${shape.table}', partitionKey: 'pk', sortKey: 'sk' },
  key: (row) => ({ pk: \`${shape.table.toUpperCase()}#${keyExpr}\`, sk: '${shape.table.toUpperCase()}' }),
  item: (row) => ({ ...row }),
  onDelete: 'delete',
});
`;
  const sampleKey = rowKey.columns
    .map((k) => sampleKeyText(shape.columns.find((c) => c.name === k) as Column))
    .join('#');
  const key = `{ pk: '${shape.table.toUpperCase()}#${sampleKey}', sk: '${shape.table.toUpperCase()}' }`;
  const test = `import { changes, ferryMatchers, runMapping } from 'ferry/testing';
import mapping, { type ${type} } from './${shape.table}';
${sampleRow.includes('Decimal.from(') ? "import { Decimal } from 'ferry';\n" : ''}
expect.extend(ferryMatchers);

const row: ${type} = {
${sampleRow}
};

describe('mappings > ${shape.table}', () => {
  it('puts one item per row', () => {
    expect(runMapping(mapping, changes.insert('${shape.db}.${shape.table}', { ...row }))).toPut(${key});
  });

  it('deletes the item when the row is deleted', () => {
    expect(runMapping(mapping, changes.delete('${shape.db}.${shape.table}', { ...row }))).toDelete(${key});
  });
});
`;
  return { module, test };
}

/** The sample key column value as it appears in the key text. */
function sampleKeyText(c: Column): string {
  const value = sampleValue({ ...c, nullable: false });
  return value.replace(/^'(.*)'$/, '$1').replace(/n$/, '');
}

function sampleValue(c: Column): string {
  if (c.nullable) return 'null';
  const type = columnType({ ...c, nullable: false });
  if (type === 'Decimal') return "Decimal.from('1.00')";
  if (type.startsWith("'")) return type.split(' | ')[0] as string;
  if (type.startsWith('Array<')) return '[]';
  switch (type) {
    case 'number':
    case 'number | bigint':
      return '1';
    case 'boolean':
      return 'true';
    case 'bigint':
      return '1n';
    case 'Uint8Array':
      return 'new Uint8Array([1])';
    default:
      return type.startsWith('{') ? '{ srid: null, wkb: new Uint8Array() }' : `'${sampleText(c)}'`;
  }
}

/** 2024-03-01 13:45:00 UTC, in nanoseconds since the epoch and since midnight. */
const SAMPLE_INSTANT = 1_709_300_700_000_000_000n;
const SAMPLE_TIME = 49_500_000_000_000n;

/** A string column's sample, formatted as ferry's decoder formats that type. */
function sampleText(c: Column): string {
  switch (c.dataType) {
    case 'date':
      return isoDate(Number(SAMPLE_INSTANT / 86_400_000_000_000n));
    case 'time':
      return isoTime(SAMPLE_TIME, 6);
    case 'datetime':
      return isoDateTime(SAMPLE_INSTANT, c.precision <= 3 ? 3 : 6);
    case 'timestamp':
      return isoZonedTimestamp('2024-03-01T13:45:00Z');
    case 'json':
      return '{}';
    default:
      return c.name;
  }
}
