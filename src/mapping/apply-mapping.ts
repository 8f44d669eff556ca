import { types } from 'node:util';
import type { ChangeEvent, Row } from '../core/change-event';
import { VERSION_ATTRIBUTE } from '../core/version';
import { ItemError, MappingError, describe } from '../core/errors';
import { type AttributeMap, type KeyAttribute, type WriteIntent, itemIdentity } from '../core/write-intent';
import type { ItemAttributes, ItemKey, Mapping } from './define-mapping';
import { type ItemRules, prepareItem, prepareKey, strictItemRules } from './prepare-item';

/** Reserved attribute: the source position an item was written from (the version guard). */

/**
 * The write intents one change produces. Keys the old row mapped to and the new row does not
 * (a key change, a fan-out that shrank, a row that stopped passing the filter) are handled as
 * the mapping's onDelete says, in the same apply.
 */
export function applyMapping(mapping: Mapping, event: ChangeEvent, rules: ItemRules = strictItemRules): WriteIntent[] {
  if (event.op === 'truncate') {
    if (mapping.onTruncate === 'ignore') return [];
    throw new MappingError(`TRUNCATE of ${event.table} cannot be applied row by row: rebuild the target table`);
  }
  const before = event.op === 'update' || event.op === 'delete' ? itemsFor(mapping, event.before, 'before') : [];
  const after = event.op === 'delete' ? [] : itemsFor(mapping, event.after, 'after');
  const intents: WriteIntent[] = after.map(({ key, item }) => put(mapping, key, item, event, rules));
  const kept = new Set(intents.map(itemIdentity));
  for (const { key, item } of before) {
    const table = mapping.targetTable;
    if (kept.has(itemIdentity({ table, key }))) continue;
    if (mapping.onDelete === 'delete') {
      const keyAttributes = itemError(mapping, key, () => prepareKey(key, keyNames(mapping)));
      intents.push({ kind: 'delete', table, key, keyAttributes, event });
    } else if (mapping.onDelete !== 'ignore') {
      const deletedAt = new Date(event.position.committedAtMs).toISOString();
      intents.push(put(mapping, key, { ...item, [mapping.onDelete.soft]: deletedAt }, event, rules));
    }
  }
  return intents;
}

/** The item a mapping's key and attributes make, exactly as it is written: the one function the writer and verify share. */
export function prepareMappedItem(
  mapping: Mapping,
  key: ItemKey,
  attributes: ItemAttributes,
  rules: ItemRules,
): { item: ItemAttributes; attributes: AttributeMap } {
  if (VERSION_ATTRIBUTE in attributes) {
    throw new MappingError(`mapping "${mapping.name}": attribute "${VERSION_ATTRIBUTE}" is reserved by ferry`);
  }
  const item = { ...attributes, ...key };
  return { item, attributes: itemError(mapping, key, () => prepareItem(item, rules, keyNames(mapping))) };
}

/** A key as a mapping returned it, checked and prepared exactly as a delete sends it. */
export function preparedKey(mapping: Mapping, key: unknown): AttributeMap {
  checkKey(mapping, key);
  return itemError(mapping, key, () => prepareKey(key, keyNames(mapping)));
}

const keyNames = (mapping: Mapping) => ({ partitionKey: mapping.partitionKey.name, sortKey: mapping.sortKey?.name });

/** Names the mapping and the item in an ItemError. */
function itemError<T>(mapping: Mapping, key: ItemKey, prepare: () => T): T {
  try {
    return prepare();
  } catch (err) {
    if (!(err instanceof ItemError)) throw err;
    throw new ItemError(`mapping "${mapping.name}": item ${safeJson(key)}: ${err.message}`, { cause: err });
  }
}

function itemsFor(mapping: Mapping, row: Row | null, side: 'before' | 'after') {
  if (row === null) return [];
  let produced: Array<{ key: ItemKey; item: ItemAttributes }>;
  try {
    produced = mapping.itemsOf(row);
  } catch (cause) {
    throw new MappingError(`mapping "${mapping.name}" threw on the "${side}" row: ${describe(cause)}`, { cause });
  }
  if (!Array.isArray(produced)) throw new MappingError(`mapping "${mapping.name}": items() must return an array`);
  for (const entry of produced) {
    checkKey(mapping, entry?.key);
    if (entry.item === null || typeof entry.item !== 'object' || Array.isArray(entry.item)) {
      throw new MappingError(`mapping "${mapping.name}": item() must return an object of attributes`);
    }
  }
  return produced;
}

function put(
  mapping: Mapping,
  key: ItemKey,
  attributes: ItemAttributes,
  event: ChangeEvent,
  rules: ItemRules,
): WriteIntent {
  return { kind: 'put', table: mapping.targetTable, key, ...prepareMappedItem(mapping, key, attributes, rules), event };
}

function checkKey(mapping: Mapping, key: unknown): asserts key is ItemKey {
  const expected = [mapping.partitionKey, mapping.sortKey].filter((k): k is KeyAttribute => k !== undefined);
  const problem = keyProblem(key, expected);
  if (problem) throw new MappingError(`mapping "${mapping.name}": invalid key ${safeJson(key)}: ${problem}`);
}

function keyProblem(key: unknown, expected: KeyAttribute[]): string | undefined {
  if (key === null || typeof key !== 'object') return 'key() must return an object';
  const names = Object.keys(key);
  const extra = names.filter((n) => !expected.some((k) => k.name === n));
  if (extra.length > 0)
    return `unexpected attribute(s) ${extra.join(', ')}; the table's key is ${expected.map((k) => k.name).join(' + ')}`;
  for (const { name, type } of expected) {
    const value = (key as Record<string, unknown>)[name];
    if (value === undefined || value === null) return `missing "${name}"`;
    const ok =
      type === 'S'
        ? typeof value === 'string' && value.length > 0
        : type === 'N'
          ? (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint' || isNumberValue(value)
          : types.isUint8Array(value) && value.length > 0;
    if (!ok) return `"${name}" must be a non-empty ${type === 'S' ? 'string' : type === 'N' ? 'number' : 'binary'}`;
  }
  return undefined;
}

const isNumberValue = (value: unknown) => value !== null && typeof value === 'object' && 'toAttributeValue' in value;

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}
