import type { Row } from '../core/change-event';
import type { ColumnSchema, SchemaDiff, SchemaJudgement } from '../core/row-schema';
import type { Mapping } from './define-mapping';

/** The columns a mapping reads, or 'every' when it enumerates the row (a spread, Object.keys). */
export type ColumnsRead = ReadonlySet<string> | 'every';

/**
 * A value that survives whatever a mapping does with a column: any property is another such
 * value, calling it gives one, and it turns into 1 or "1" where a primitive is needed. So a
 * mapping runs to its end on it and every column it touches on the way is seen.
 */
function anything(): unknown {
  const target = function () {} as unknown as object;
  const proxy: unknown = new Proxy(target, {
    get: (_t, key) => {
      if (key === Symbol.toPrimitive) return (hint: string) => (hint === 'number' ? 1 : '1');
      if (key === Symbol.iterator) return function* () {};
      if (key === 'toJSON') return () => '1';
      if (key === 'then') return undefined;
      return proxy;
    },
    apply: () => proxy,
    construct: () => proxy as object,
  });
  return proxy;
}

/**
 * Runs the mapping on a row of the given columns whose property reads are tracked, and returns
 * the columns it read. Errors the sample values provoke end the run, not the tracking.
 */
export function columnsRead(mapping: Pick<Mapping, 'functions'>, columns: readonly string[]): ColumnsRead {
  const read = new Set<string>();
  let enumerated = false;
  const row = new Proxy({} as Row, {
    get: (_t, key) => {
      if (typeof key === 'string') read.add(key);
      return anything();
    },
    has: (_t, key) => {
      if (typeof key === 'string') read.add(key);
      return typeof key === 'string' && columns.includes(key);
    },
    ownKeys: () => {
      enumerated = true;
      return [...columns];
    },
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === 'string' && columns.includes(key)
        ? { configurable: true, enumerable: true, writable: true, value: anything() }
        : undefined,
  });
  // Each function on its own: a filter that says no must not hide what the item reads.
  for (const fn of mapping.functions) {
    try {
      fn(row);
    } catch {
      // The sample values may not satisfy the mapping's checks; what it read up to there counts.
    }
  }
  return enumerated ? 'every' : read;
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

/** "harmless: …" / "existing rows may differ: b was added with default 7" / "the mapping breaks: a was dropped". */
export const describeJudgement = (j: SchemaJudgement): string =>
  j.class === 'harmless'
    ? 'harmless (the mapping reads none of these columns)'
    : `${j.class === 'mapping breaks' ? 'the mapping breaks' : j.class}: ${j.reasons.join('; ')}`;
