import { types } from 'node:util';
import { setOwn } from '../core/own-property';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ItemError } from '../core/errors';
import type { AttributeMap } from '../core/write-intent';

/**
 * Turns what a mapping returns into the exact DynamoDB item, checking everything DynamoDB would
 * refuse, so that a refusal is found here (an item error, never retried) and not as a request
 * error. The writer, verify, `mapping test`/`diff` and ferry/testing all come through here, so
 * what they predict and compare is what is written.
 */

/** DynamoDB rejects items over 400 KB. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's limits on key values and nesting. */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;
const MAX_DEPTH = 32;
/** A DynamoDB Number: up to 38 significant digits, magnitude from 1E-130 to 9.99…E+125. */
const MAX_DIGITS = 38;
const MIN_EXPONENT = -130;
const MAX_EXPONENT = 125;

export interface ItemRules {
  /** A number DynamoDB cannot hold (over 38 digits, out of range, NaN, Infinity): item error, or stored as text. */
  numberOverflow: 'error' | 'string';
}

export const strictItemRules: ItemRules = { numberOverflow: 'error' };

/** A prepared attribute and the bytes DynamoDB counts for it. */
interface Prepared {
  value: AttributeValue;
  size: number;
}

interface Walk {
  rules: ItemRules;
  /** Key attributes: never text in place of a number, never empty. */
  key: boolean;
}

/** The table's key attributes: prepared as keys wherever they appear. */
export interface KeyNames {
  partitionKey: string;
  sortKey?: string;
}

/**
 * Prepares an item, key attributes included (they follow key rules: never text in place of a
 * number, never empty, within the key size limits); throws ItemError naming the attribute and
 * the value.
 */
export function prepareItem(item: Record<string, unknown>, rules: ItemRules, key: KeyNames): AttributeMap {
  const attributes: AttributeMap = {};
  let size = 0;
  const walk: Walk = { rules, key: false };
  for (const name in item) {
    const value = item[name];
    if (value === undefined) continue; // the mapping says "no attribute"
    const prepared = isKey(name, key) ? keyAttribute(name, value, key) : prepare(value, name, 1, walk);
    setOwn(attributes, name, prepared.value);
    size += Buffer.byteLength(name) + prepared.size;
  }
  if (size > MAX_ITEM_BYTES) {
    throw new ItemError(`the item is ${size} bytes, over DynamoDB's ${MAX_ITEM_BYTES}-byte limit`);
  }
  return attributes;
}

/** Prepares a key alone, for a delete. */
export function prepareKey(values: Record<string, unknown>, key: KeyNames): AttributeMap {
  const attributes: AttributeMap = {};
  for (const name in values) setOwn(attributes, name, keyAttribute(name, values[name], key).value);
  return attributes;
}

const isKey = (name: string, key: KeyNames) => name === key.partitionKey || name === key.sortKey;
const keyWalk: Walk = { rules: strictItemRules, key: true };

function keyAttribute(name: string, value: unknown, key: KeyNames): Prepared {
  const prepared = prepare(value, name, 1, keyWalk);
  const limit = name === key.sortKey ? MAX_SORT_KEY_BYTES : MAX_PARTITION_KEY_BYTES;
  if (prepared.size > limit) throw new ItemError(`key attribute "${name}" is ${prepared.size} bytes, over ${limit}`);
  return prepared;
}

function prepare(value: unknown, path: string, depth: number, walk: Walk): Prepared {
  switch (typeof value) {
    case 'string':
      if (walk.key && value.length === 0) throw new ItemError(`key attribute "${path}" is an empty string`);
      return { value: { S: value }, size: Buffer.byteLength(value) };
    case 'number':
      return number(value, path, walk);
    case 'bigint':
      return number(value, path, walk);
    case 'boolean':
      return { value: { BOOL: value }, size: 1 };
    case 'object':
      break;
    default:
      throw new ItemError(`attribute "${path}": a ${typeof value} cannot be stored`);
  }
  if (value === null) return { value: { NULL: true }, size: 1 };
  if (isNumberValue(value)) return number(value, path, walk);
  if (types.isUint8Array(value)) {
    if (walk.key && value.length === 0) throw new ItemError(`key attribute "${path}" is empty binary`);
    return { value: { B: value }, size: value.length };
  }
  if (walk.key) throw new ItemError(`key attribute "${path}" must be a string, a number or binary`);
  if (depth >= MAX_DEPTH) throw new ItemError(`attribute "${path}" is nested beyond DynamoDB's ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    const list: AttributeValue[] = [];
    let size = 3;
    value.forEach((element, i) => {
      if (element === undefined) return;
      const prepared = prepare(element, `${path}[${i}]`, depth + 1, walk);
      list.push(prepared.value);
      size += prepared.size + 1;
    });
    return { value: { L: list }, size };
  }
  if (types.isSet(value)) return set(value, path);
  const entries: Iterable<[unknown, unknown]> | undefined = types.isMap(value)
    ? value
    : isPlainObject(value)
      ? Object.entries(value)
      : undefined;
  if (entries === undefined) {
    const kind = (value as object).constructor?.name ?? 'object';
    const hint = types.isDate(value) ? ' (store its toISOString() or getTime())' : '';
    throw new ItemError(`attribute "${path}": a ${kind} cannot be stored${hint}`);
  }
  const map: AttributeMap = {};
  let size = 3;
  for (const [name, element] of entries) {
    if (element === undefined) continue;
    if (typeof name !== 'string') throw new ItemError(`attribute "${path}": map keys must be strings`);
    const prepared = prepare(element, `${path}.${name}`, depth + 1, walk);
    setOwn(map, name, prepared.value);
    size += Buffer.byteLength(name) + prepared.size + 1;
  }
  return { value: { M: map }, size };
}

function set(value: Set<unknown>, path: string): Prepared {
  if (value.size === 0) throw new ItemError(`attribute "${path}": DynamoDB sets cannot be empty (leave it undefined)`);
  const first = value.values().next().value;
  const kind =
    typeof first === 'string'
      ? 'SS'
      : typeof first === 'number' || typeof first === 'bigint' || isNumberValue(first)
        ? 'NS'
        : types.isUint8Array(first)
          ? 'BS'
          : undefined;
  if (kind === undefined) throw new ItemError(`attribute "${path}": a set holds strings, numbers or binary only`);
  // Members equal as DynamoDB compares them (1 and 1.0, equal bytes) are one member.
  const members = new Map<string, string | Uint8Array>();
  let size = 0;
  for (const member of value) {
    const prepared = prepare(member, `${path}[]`, 2, { rules: strictItemRules, key: false });
    const text = prepared.value[kind === 'SS' ? 'S' : kind === 'NS' ? 'N' : 'B'];
    if (text === undefined) throw new ItemError(`attribute "${path}": a set's members must all be of one type`);
    const id = typeof text === 'string' ? text : Buffer.from(text).toString('base64');
    if (!members.has(id)) size += prepared.size;
    members.set(id, text);
  }
  const list = [...members.values()];
  return { value: (kind === 'BS' ? { BS: list } : { [kind]: list }) as AttributeValue, size };
}

function number(value: number | bigint | object, path: string, walk: Walk): Prepared {
  // The common case, an ordinary number: its JavaScript text is already DynamoDB's.
  if (typeof value === 'number' && (value === 0 || (Math.abs(value) >= 1e-6 && Math.abs(value) < 1e21))) {
    const text = String(value);
    return { value: { N: text }, size: numberSize(text) };
  }
  const text = String(value);
  const canonical = canonicalNumber(text);
  if (canonical.ok) return { value: { N: canonical.text }, size: numberSize(canonical.text) };
  if (walk.rules.numberOverflow === 'string' && !walk.key) return { value: { S: text }, size: Buffer.byteLength(text) };
  throw new ItemError(
    `${walk.key ? 'key attribute' : 'attribute'} "${path}": ${text} ${canonical.problem} (FERRY_PIPELINE_NUMBER_OVERFLOW=string stores such numbers as text)`,
  );
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * A number's text as DynamoDB holds it: plain decimal, no exponent, no insignificant zeros, "0"
 * for any zero; or why DynamoDB cannot hold it.
 */
export function canonicalNumber(text: string): { ok: true; text: string } | { ok: false; problem: string } {
  const match = NUMBER.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return { ok: false, problem: 'is not a finite number' };
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  let digits = whole + fraction;
  // The decimal point sits after `point` digits of `digits`.
  let point = whole.length + Number(exponent);
  const leading = /^0*/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(leading).replace(/0+$/, '');
  point -= leading;
  if (digits === '') return { ok: true, text: '0' };
  if (digits.length > MAX_DIGITS)
    return { ok: false, problem: `has ${digits.length} significant digits; a DynamoDB Number holds ${MAX_DIGITS}` };
  if (point - 1 > MAX_EXPONENT || point - 1 < MIN_EXPONENT)
    return { ok: false, problem: 'is outside the range of a DynamoDB Number (1E-130 to 9.99E+125)' };
  const plain =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return { ok: true, text: (sign === '-' ? '-' : '') + plain };
}

/** DynamoDB counts about one byte per two significant digits, plus one. */
function numberSize(text: string): number {
  const digits = text.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(digits.length / 2) + 1;
}

const isNumberValue = (value: unknown): value is { toAttributeValue(): unknown } =>
  value !== null && typeof value === 'object' && 'toAttributeValue' in value;

/** An object literal, from this realm or another (a mapping may be loaded in a vm context). */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * A prepared item's identity as DynamoDB compares content: numbers by value, sets in any order,
 * attributes by name. Two items hold the same content exactly when their signatures are equal.
 */
export function itemSignature(item: AttributeMap): string {
  return `{${Object.keys(item)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${valueSignature(item[name] as AttributeValue)}`)
    .join(',')}}`;
}

function valueSignature(value: AttributeValue): string {
  if (value.S !== undefined) return `S${JSON.stringify(value.S)}`;
  if (value.N !== undefined) return `N${numberSignature(value.N)}`;
  if (value.B !== undefined) return `B${Buffer.from(value.B).toString('base64')}`;
  if (value.BOOL !== undefined) return `BOOL${value.BOOL}`;
  if (value.NULL !== undefined) return 'NULL';
  if (value.L !== undefined) return `L[${value.L.map(valueSignature).join(',')}]`;
  if (value.M !== undefined) return `M${itemSignature(value.M)}`;
  if (value.SS !== undefined) return `SS[${sorted(value.SS.map((s) => JSON.stringify(s)))}]`;
  if (value.NS !== undefined) return `NS[${sorted(value.NS.map(numberSignature))}]`;
  if (value.BS !== undefined) return `BS[${sorted(value.BS.map((b) => Buffer.from(b).toString('base64')))}]`;
  return JSON.stringify(value);
}

const sorted = (texts: string[]) => texts.sort().join(',');

const numberSignature = (text: string) => {
  const canonical = canonicalNumber(text);
  return canonical.ok ? canonical.text : text;
};

/** A prepared item for people and JSON output: exact numbers, binary as base64, sets tagged. */
export function readableItem(item: AttributeMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, readable(value)]));
}

function readable(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  // JSON.rawJSON prints the exact digits as a JSON number.
  if (value.N !== undefined) return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(value.N);
  if (value.B !== undefined) return { base64: Buffer.from(value.B).toString('base64') };
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.L !== undefined) return value.L.map(readable);
  if (value.M !== undefined) return readableItem(value.M);
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS.map((n) => readable({ N: n })) };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  return value;
}
