import type { ColumnsRead } from '../../mapping/columns-read';
import type { ConnectSchema } from './logical-types';

/** One column as the connector describes it. */
export interface ColumnSchema {
  name: string;
  /** Connect type, logical type and source type: `int32`, `string/io.debezium.data.Enum`, … */
  type: string;
  optional: boolean;
  /** The column's default, as the connector carries it (absent when it has none). */
  default?: unknown;
}

/** The columns of a table's rows, in column order, as one change event's schema gives them. */
export interface RowSchema {
  columns: ColumnSchema[];
}

const SOURCE_TYPE = '__debezium.source.column.type';

/**
 * The row struct's columns, from the `before`/`after` field of a change event's Connect schema.
 * A type is the Connect type, its logical name, a decimal's scale and the source type when the
 * connector propagates it: what changes the values a column's rows carry.
 */
export function rowSchemaOf(row: ConnectSchema): RowSchema {
  return {
    columns: (row.fields ?? []).map((field) => {
      const scale = field.parameters?.scale;
      const type = [
        field.type,
        field.name,
        scale === undefined ? undefined : `scale ${scale}`,
        field.parameters?.[SOURCE_TYPE],
      ]
        .filter(Boolean)
        .join('/');
      return {
        name: field.field as string,
        type,
        optional: field.optional === true,
        ...(field.default === undefined || field.default === null ? {} : { default: field.default }),
      };
    }),
  };
}

/** What changed between two schemas of one table. */
export interface SchemaDiff {
  added: ColumnSchema[];
  removed: ColumnSchema[];
  /** A removed and an added column in the same place with the same type. */
  renamed: Array<{ from: string; to: string }>;
  retyped: Array<{ name: string; from: string; to: string }>;
}

export function diffSchemas(before: RowSchema, after: RowSchema): SchemaDiff {
  const old = new Map(before.columns.map((c, i) => [c.name, { c, i }]));
  const now = new Map(after.columns.map((c, i) => [c.name, { c, i }]));
  let added = after.columns.filter((c) => !old.has(c.name));
  let removed = before.columns.filter((c) => !now.has(c.name));
  const retyped = after.columns
    .filter((c) => old.has(c.name) && old.get(c.name)?.c.type !== c.type)
    .map((c) => ({ name: c.name, from: old.get(c.name)?.c.type as string, to: c.type }));
  const renamed: SchemaDiff['renamed'] = [];
  for (const gone of [...removed]) {
    const at = old.get(gone.name)?.i;
    const match = added.find((c) => now.get(c.name)?.i === at && c.type === gone.type);
    if (match === undefined) continue;
    renamed.push({ from: gone.name, to: match.name });
    added = added.filter((c) => c !== match);
    removed = removed.filter((c) => c !== gone);
  }
  return { added, removed, renamed, retyped };
}

export const isEmptyDiff = (d: SchemaDiff) =>
  d.added.length + d.removed.length + d.renamed.length + d.retyped.length === 0;

/** What a schema change means for the items a mapping has written. */
export type SchemaChangeClass = 'harmless' | 'existing rows may differ' | 'mapping breaks';

export interface SchemaJudgement {
  class: SchemaChangeClass;
  /** Why, one clause per column that decides it. */
  reasons: string[];
}

/**
 * Judges a schema change against the columns the mapping reads. A column it reads that is gone
 * (dropped, or renamed away) breaks it: the next changes will fail to map, or map without it. One
 * it reads that was added, renamed to or retyped means rows no change has touched since may now
 * map to other items than the ones written: their new values (a default, the renamed column's,
 * the converted ones) never came through the binlog. A mapping that copies every column breaks
 * on nothing, but every change but a nullable column added without a default reaches its items.
 */
export function judgeSchemaChange(diff: SchemaDiff, reading: ColumnsRead): SchemaJudgement {
  const added = (c: ColumnSchema) =>
    `${c.name} was added${c.default === undefined ? '' : ` with default ${JSON.stringify(c.default)}`}`;
  const renamed = (r: { from: string; to: string }) => `${r.from} was renamed to ${r.to}`;
  const retyped = (c: { name: string; from: string; to: string }) => `${c.name} changed type from ${c.from} to ${c.to}`;
  if (reading === 'every') {
    const differ = [
      ...diff.added.filter((c) => c.default !== undefined || !c.optional).map(added),
      ...diff.removed.map((c) => `${c.name} was dropped`),
      ...diff.renamed.map(renamed),
      ...diff.retyped.map(retyped),
    ];
    return differ.length > 0
      ? { class: 'existing rows may differ', reasons: differ }
      : { class: 'harmless', reasons: [] };
  }
  const reads = (column: string) => reading.has(column);
  const breaks = [
    ...diff.removed.filter((c) => reads(c.name)).map((c) => `${c.name} was dropped`),
    ...diff.renamed.filter((r) => reads(r.from)).map(renamed),
  ];
  const differ = [
    ...diff.added.filter((c) => reads(c.name)).map(added),
    ...diff.renamed.filter((r) => !reads(r.from) && reads(r.to)).map(renamed),
    ...diff.retyped.filter((c) => reads(c.name)).map(retyped),
  ];
  if (breaks.length > 0) return { class: 'mapping breaks', reasons: [...breaks, ...differ] };
  if (differ.length > 0) return { class: 'existing rows may differ', reasons: differ };
  return { class: 'harmless', reasons: [] };
}

/** One line: "added b (int32, default 7); dropped note; renamed a to c; retyped id int32 to int64". */
export function describeDiff(diff: SchemaDiff): string {
  const parts = [
    ...diff.added.map(
      (c) => `added ${c.name} (${c.type}${c.default === undefined ? '' : `, default ${JSON.stringify(c.default)}`})`,
    ),
    ...diff.removed.map((c) => `dropped ${c.name}`),
    ...diff.renamed.map((r) => `renamed ${r.from} to ${r.to}`),
    ...diff.retyped.map((c) => `retyped ${c.name} ${c.from} to ${c.to}`),
  ];
  return parts.length === 0 ? 'no column changed' : parts.join('; ');
}

/** "harmless: …" / "existing rows may differ: b was added with default 7" / "the mapping breaks: a was dropped". */
export const describeJudgement = (j: SchemaJudgement): string =>
  j.class === 'harmless'
    ? 'harmless (the mapping reads none of these columns)'
    : `${j.class === 'mapping breaks' ? 'the mapping breaks' : j.class}: ${j.reasons.join('; ')}`;
