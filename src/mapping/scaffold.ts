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
        return enumValues(c.columnType).map(text).join(' | ') || 'string';
      case 'set':
        return `Array<${enumValues(c.columnType).map(text).join(' | ') || 'string'}>`;
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
  const inner = /^(?:enum|set)\((.*)\)$/is.exec(columnType)?.[1] ?? '';
  return [...inner.matchAll(/'((?:[^'\\]|''|\\.)*)'/g)].map((m) => (m[1] as string).replace(/''/g, "'"));
}

/** A JavaScript string literal, single-quoted, of any text (a MySQL name may hold quotes). */
const text = (value: string) => `'${JSON.stringify(value).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** An identifier when the name is one, else the quoted name: for property keys. */
const property = (name: string) => (IDENTIFIER.test(name) ? name : text(name));

/** A key in an object literal: there `__proto__: v` sets the prototype, `['__proto__']: v` makes the property. */
const literalKey = (name: string) => (name === '__proto__' ? `[${text(name)}]` : property(name));

/** `row.name`, or `row['a name']` when the column's name is not an identifier. */
const field = (name: string) => (IDENTIFIER.test(name) ? `row.${name}` : `row[${text(name)}]`);

/**
 * The mapping's name, its files' and its DynamoDB table's: the source table's name with each
 * character a mapping name and a DynamoDB table name refuse as "_" (a MySQL name may hold spaces,
 * "€"...), and the database's before it when that is shorter than DynamoDB's 3 characters.
 */
export function scaffoldName(shape: Pick<TableShape, 'db' | 'table'>): string {
  const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe(shape.table).length >= 3 ? safe(shape.table) : `${safe(shape.db)}-${safe(shape.table)}`;
}

/** The row type's name: `<Name>Row` in PascalCase, ASCII letters and digits only. */
function rowTypeName(name: string): string {
  const pascal = name.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());
  const type = `${pascal.replace(/[^A-Za-z0-9]/g, '')}Row`;
  return /^[0-9]/.test(type) ? `Table${type}` : type;
}

/**
 * A mapping module, its test and a row type generated from the source table's columns; items are
 * keyed by the table's row key, and named key columns are declared as `source.key`.
 */
export function scaffoldMapping(shape: TableShape, rowKey: RowKey): { module: string; test: string } {
  const name = scaffoldName(shape);
  const type = rowTypeName(name);
  const prefix = name.toUpperCase();
  const source = text(`${shape.db}.${shape.table}`);
  const needsDecimal = shape.columns.some((c) => c.dataType === 'decimal' || c.dataType === 'numeric');
  const keyExpr = rowKey.columns.map((k) => `\${${field(k)}}`).join('#');
  const sourceKey = rowKey.origin.kind === 'named' ? `, key: [${rowKey.columns.map(text).join(', ')}]` : '';
  const fields = shape.columns.map((c) => `  ${property(c.name)}: ${columnType(c)};`).join('\n');
  const sampleRow = shape.columns.map((c) => `  ${literalKey(c.name)}: ${sampleValue(c)},`).join('\n');
  const module = `import { defineMapping${needsDecimal ? ', type Decimal' : ''} } from 'ferry';

/** Columns of ${shape.db}.${shape.table} as ferry decodes them (generated from information_schema). */
export interface ${type} {
${fields}
}

export default defineMapping<${type}>({
  name: '${name}',
  source: { table: ${source}${sourceKey} },
  target: { table: '${name}', partitionKey: 'pk', sortKey: 'sk' },
  key: (row) => ({ pk: \`${prefix}#${keyExpr}\`, sk: '${prefix}' }),
  item: (row) => ({ ...row }),
  onDelete: 'delete',
});
`;
  const sampleKey = rowKey.columns
    .map((k) => sampleKeyText(shape.columns.find((c) => c.name === k) as Column))
    .join('#');
  const key = `{ pk: ${text(`${prefix}#${sampleKey}`)}, sk: '${prefix}' }`;
  const test = `import { changes, ferryMatchers, runMapping } from 'ferry/testing';
import mapping, { type ${type} } from './${name}';
${sampleRow.includes('Decimal.from(') ? "import { Decimal } from 'ferry';\n" : ''}
expect.extend(ferryMatchers);

const row: ${type} = {
${sampleRow}
};

describe('mappings > ${name}', () => {
  it('puts one item per row', () => {
    expect(runMapping(mapping, changes.insert(${source}, { ...row }))).toPut(${key});
  });

  it('deletes the item when the row is deleted', () => {
    expect(runMapping(mapping, changes.delete(${source}, { ...row }))).toDelete(${key});
  });
});
`;
  return { module, test };
}

/** The sample key column's value as the key's template literal writes it. */
function sampleKeyText(c: Column): string {
  const type = columnType({ ...c, nullable: false });
  if (type.startsWith("'")) return enumValues(c.columnType)[0] as string;
  if (type === 'Decimal') return '1.00';
  if (type === 'boolean') return 'true';
  if (['number', 'number | bigint', 'bigint', 'Uint8Array'].includes(type)) return '1';
  return sampleText(c);
}

function sampleValue(c: Column): string {
  if (c.nullable) return 'null';
  const type = columnType({ ...c, nullable: false });
  if (type === 'Decimal') return "Decimal.from('1.00')";
  if (type.startsWith("'")) return text(enumValues(c.columnType)[0] as string);
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
      return type.startsWith('{') ? '{ srid: null, wkb: new Uint8Array() }' : text(sampleText(c));
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
