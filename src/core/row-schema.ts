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

/** What a schema change means for the items a mapping has written. */
export type SchemaChangeClass = 'harmless' | 'existing rows may differ' | 'mapping breaks';

export interface SchemaJudgement {
  class: SchemaChangeClass;
  /** Why, one clause per column that decides it. */
  reasons: string[];
}
