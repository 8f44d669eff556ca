import type { Row } from '../core/change-event';
import { ConfigError } from '../core/errors';
import type { KeyAttribute } from '../core/write-intent';

/** A DynamoDB key: the partition key attribute and, if the table has one, the sort key. */
export type ItemKey = Record<string, string | number | Uint8Array>;
/** Attributes of an item; ferry adds the key and its own bookkeeping attribute. */
export type ItemAttributes = Record<string, unknown>;

export type OnDelete = 'delete' | 'ignore' | { soft: string };
export type OnTruncate = 'dead-letter' | 'ignore';
export type OnSchemaChange = 'alert' | 'snapshot';

interface MappingBase<R extends object> {
  /** Unique name; names the consumer group, the dead-letter topic and the metrics. */
  name: string;
  /**
   * The source table, `db.table`. `key` names the columns that identify a row of a table with no
   * primary key and no unique key over NOT NULL columns: the same columns the connector keys its
   * changes by (message.key.columns). A table with a key of its own is read by that key.
   */
  source: { table: string; key?: string[] };
  target: {
    table: string;
    partitionKey: string | KeyAttribute;
    sortKey?: string | KeyAttribute;
  };
  /** Rows for which this returns false are not in the target (an update that fails it deletes). */
  filter?: (row: R) => boolean;
  /** What a source delete does: delete the items, keep them, or set an attribute to the delete time. */
  onDelete?: OnDelete;
  /** A TRUNCATE cannot be replayed row by row: by default it goes to the dead letters for an operator. */
  onTruncate?: OnTruncate;
  /**
   * When the source table's columns change in a way that may change items already written (a
   * column the mapping reads added with a default, renamed or retyped): alert only, or also ask
   * Debezium to snapshot the table again, so that every item is rewritten from its row as it is now.
   */
  onSchemaChange?: OnSchemaChange;
  /**
   * How long a write that keeps failing with a retriable error (throttling, an outage) may hold
   * its partition: after `maxAttempts` attempts or `maxDurationMs`, whichever comes first, the
   * change goes to the dead letters (RetriesExhaustedError) and the partition moves on. Unset,
   * the partition is held until the failure clears. FERRY_RETRY_* settings override these.
   */
  retry?: RetryLimit;
}

export interface RetryLimit {
  maxAttempts?: number;
  maxDurationMs?: number;
}

export interface SingleItemMapping<R extends object = Row> extends MappingBase<R> {
  key: (row: R) => ItemKey;
  item: (row: R) => ItemAttributes;
}

export interface FanOutMapping<R extends object = Row> extends MappingBase<R> {
  /** Several items per row; keys a row no longer produces are deleted. */
  items: (row: R) => Array<{ key: ItemKey; item: ItemAttributes }>;
}

export type MappingDefinition<R extends object = Row> = SingleItemMapping<R> | FanOutMapping<R>;

/** A validated mapping, as the engine uses it. */
export interface Mapping {
  readonly name: string;
  readonly sourceTable: string;
  /** The columns the mapping says identify a source row (`source.key`), for a table without a key of its own. */
  readonly sourceKey?: readonly string[];
  readonly targetTable: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly onDelete: OnDelete;
  readonly onTruncate: OnTruncate;
  readonly onSchemaChange: OnSchemaChange;
  readonly retry: Readonly<RetryLimit>;
  /** Every item the row maps to (none when filtered out). */
  readonly itemsOf: (row: Row) => Array<{ key: ItemKey; item: ItemAttributes }>;
  /** The keys the row maps to, unfiltered and unchecked; a single-item mapping runs its key function alone. */
  readonly keysOf: (row: Row) => unknown[];
  /** Each function the mapping runs on a row (filter, key, item or items), for what reads columns. */
  readonly functions: ReadonlyArray<(row: Row) => unknown>;
}

/** Declares a mapping; typing the row gives the functions typed columns. */
export function defineMapping<R extends object = Row>(definition: MappingDefinition<R>): MappingDefinition<R> {
  return definition;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Checks a definition when it is loaded; errors name the mapping and the field. */
export function compileMapping(definition: unknown, origin = 'mapping'): Mapping {
  const d = definition as Partial<SingleItemMapping & FanOutMapping> | undefined;
  const fail = (field: string, problem: string): never => {
    const name = typeof d?.name === 'string' ? d.name : origin;
    throw new ConfigError(`mapping "${name}": ${field} ${problem}`);
  };
  if (d === null || typeof d !== 'object')
    throw new ConfigError(`${origin}: the default export must be a mapping built with defineMapping()`);
  if (typeof d.name !== 'string' || !NAME.test(d.name))
    fail('name', 'must be 1-100 characters of letters, digits, "_", "-" or "."');
  if (typeof d.source?.table !== 'string' || !/^[^.]+\.[^.]+$/.test(d.source.table))
    fail('source.table', 'must be "db.table"');
  const sourceKey = (d.source as { key?: unknown }).key;
  if (
    sourceKey !== undefined &&
    !(
      Array.isArray(sourceKey) &&
      sourceKey.length > 0 &&
      sourceKey.every((c) => typeof c === 'string' && c.length > 0) &&
      new Set(sourceKey).size === sourceKey.length
    )
  )
    fail('source.key', "must be a non-empty list of distinct column names, e.g. ['code']");
  if (typeof d.target?.table !== 'string' || d.target.table.length < 3)
    fail('target.table', 'must name a DynamoDB table (3-255 characters)');
  const partitionKey = keyAttribute(d.target?.partitionKey, 'target.partitionKey', fail);
  const sortKey = d.target?.sortKey === undefined ? undefined : keyAttribute(d.target.sortKey, 'target.sortKey', fail);
  const single = d.key !== undefined || d.item !== undefined;
  if (single && d.items !== undefined)
    fail('items', 'cannot be combined with key/item: use key + item, or items for fan-out');
  if (single && typeof d.key !== 'function') fail('key', 'must be a function (row) => key');
  if (single && typeof d.item !== 'function') fail('item', 'must be a function (row) => attributes');
  if (!single && typeof d.items !== 'function') fail('key', 'is missing: give key + item, or items for fan-out');
  if (d.filter !== undefined && typeof d.filter !== 'function') fail('filter', 'must be a function (row) => boolean');
  const onDelete = d.onDelete ?? 'delete';
  const validDelete =
    onDelete === 'delete' ||
    onDelete === 'ignore' ||
    (typeof onDelete === 'object' && typeof onDelete.soft === 'string' && onDelete.soft.length > 0);
  if (!validDelete) fail('onDelete', `must be 'delete', 'ignore' or { soft: '<attribute>' }`);
  const onTruncate = d.onTruncate ?? 'dead-letter';
  if (onTruncate !== 'dead-letter' && onTruncate !== 'ignore') fail('onTruncate', `must be 'dead-letter' or 'ignore'`);
  const onSchemaChange = d.onSchemaChange ?? 'alert';
  if (onSchemaChange !== 'alert' && onSchemaChange !== 'snapshot')
    fail('onSchemaChange', `must be 'alert' or 'snapshot'`);

  const retry = d.retry ?? {};
  if (typeof retry !== 'object' || retry === null) fail('retry', 'must be { maxAttempts?, maxDurationMs? }');
  for (const field of ['maxAttempts', 'maxDurationMs'] as const) {
    const value = retry[field];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0))
      fail(`retry.${field}`, 'must be a whole number above 0');
  }
  const unknown = Object.keys(retry).filter((k) => k !== 'maxAttempts' && k !== 'maxDurationMs');
  if (unknown.length) fail('retry', `has unknown fields ${unknown.join(', ')}: only maxAttempts and maxDurationMs`);

  const filter = d.filter;
  const produce: Mapping['itemsOf'] = single
    ? (row) => [{ key: (d.key as SingleItemMapping['key'])(row), item: (d.item as SingleItemMapping['item'])(row) }]
    : (row) => (d.items as FanOutMapping['items'])(row);
  return {
    name: d.name as string,
    sourceTable: (d.source as { table: string }).table,
    ...(sourceKey === undefined ? {} : { sourceKey: Object.freeze([...(sourceKey as string[])]) }),
    targetTable: (d.target as { table: string }).table,
    partitionKey,
    sortKey,
    onDelete,
    onTruncate,
    onSchemaChange,
    retry: Object.freeze({ ...retry }),
    itemsOf: (row) => (filter && !filter(row) ? [] : produce(row)),
    keysOf: single
      ? (row) => [(d.key as SingleItemMapping['key'])(row)]
      : (row) => (d.items as FanOutMapping['items'])(row).map((entry) => (entry as { key?: unknown } | null)?.key),
    functions: [filter, d.key, d.item, d.items].filter((f) => typeof f === 'function') as Mapping['functions'],
  };
}

function keyAttribute(value: unknown, field: string, fail: (field: string, problem: string) => never): KeyAttribute {
  if (typeof value === 'string' && value.length > 0) return { name: value, type: 'S' };
  const v = value as Partial<KeyAttribute> | undefined;
  if (v && typeof v.name === 'string' && v.name.length > 0 && (v.type === 'S' || v.type === 'N' || v.type === 'B')) {
    return { name: v.name, type: v.type };
  }
  return fail(field, `must be an attribute name or { name, type: 'S' | 'N' | 'B' }`);
}
