import { ConfigError } from '../../core/errors';
import { type TableShape, qualifiedName } from './table-shape';

/**
 * A table's row key: the columns that tell its rows apart. One rule, used wherever ferry reads a
 * table's identity (the connector config it prints, `mapping new`, `verify`):
 *
 * 1. the primary key;
 * 2. else the first UNIQUE key whose columns are all NOT NULL (the one Debezium itself keys such
 *    a table by). A unique key over a nullable column does not identify a row: any number of
 *    rows may hold NULL there;
 * 3. else columns the user names (the connector's message.key.columns, a mapping's
 *    `source.key`): they must exist and be NOT NULL;
 * 4. else the table cannot be carried, and the refusal names the fix.
 */
export type KeyOrigin = { kind: 'primary key' } | { kind: 'unique key'; name: string } | { kind: 'named' };

export interface RowKey {
  columns: string[];
  origin: KeyOrigin;
}

export interface RowKeyOptions {
  /**
   * Named columns for a table that has a key of its own: `refuse` where they are an argument
   * given now (a mistake to point out), `ignore` where they are a declaration the table may have
   * outgrown (a primary key added since): the table's own key is used.
   */
  whenOwnKey?: 'refuse' | 'ignore';
  /** What the named columns are called in messages: `--key`, `source.key`. */
  namedBy?: string;
  /** Where this caller takes named columns, appended to the fix. */
  hint?: string;
}

/** The fix for a table without a row key, as every refusal (and the worker) words it. */
export const keyFix = (table: string) =>
  `give the table a key in the connector with message.key.columns (ferry connector --key ${table}=<columns>), or add a primary key`;

/** Where a key came from, for people: `primary key`, ``unique key `uk_code` ``, `named`. */
export const keyOrigin = (key: RowKey): string =>
  key.origin.kind === 'unique key' ? `unique key \`${key.origin.name}\`` : key.origin.kind;

/** `code, status (unique key `uk_code`)`. */
export const describeRowKey = (key: RowKey): string => `${key.columns.join(', ')} (${keyOrigin(key)})`;

/** The table's own key (rules 1 and 2), if it has one. */
export function ownKey(shape: TableShape): RowKey | undefined {
  if (shape.primaryKey.length > 0) return { columns: [...shape.primaryKey], origin: { kind: 'primary key' } };
  const nullable = nullableColumns(shape);
  const unique = shape.uniqueKeys.find((k) => k.columns.every((c) => !nullable.has(c)));
  return unique ? { columns: [...unique.columns], origin: { kind: 'unique key', name: unique.name } } : undefined;
}

/** The table's row key by the rule above; a ConfigError naming the table and the fix when it has none. */
export function rowKey(shape: TableShape, named?: readonly string[], options: RowKeyOptions = {}): RowKey {
  const table = qualifiedName(shape);
  const by = options.namedBy ?? 'the key';
  const own = ownKey(shape);
  if (own) {
    if (named !== undefined && options.whenOwnKey === 'refuse')
      throw new ConfigError(
        `${by} for ${table}: the table has its own key, ${describeRowKey(own)}, which ferry uses; ${by} is only for a table without one`,
      );
    return own;
  }
  if (named === undefined) {
    const nullable = nullableColumns(shape);
    const loose = shape.uniqueKeys.map(
      (k) =>
        `unique key \`${k.name}\` (${k.columns.join(', ')}) allows NULL in ${k.columns.filter((c) => nullable.has(c)).join(', ')}, so it does not identify a row`,
    );
    throw new ConfigError(
      `${table} has no primary key and no unique key over NOT NULL columns${loose.length > 0 ? ` (${loose.join('; ')})` : ''}: its rows cannot be told apart. Fix: ${keyFix(table)}${options.hint ? `; ${options.hint}` : ''}`,
    );
  }
  const problem = namedKeyProblem(shape, named);
  if (problem) throw new ConfigError(`${by} for ${table}: ${problem}`);
  return { columns: [...named], origin: { kind: 'named' } };
}

/** Why named columns cannot be a row key of the table, or undefined when they can. */
function namedKeyProblem(shape: TableShape, named: readonly string[]): string | undefined {
  if (named.length === 0) return 'names no column';
  const seen = new Set<string>();
  for (const name of named) {
    if (seen.has(name)) return `names ${name} twice`;
    seen.add(name);
    const column = shape.columns.find((c) => c.name === name);
    if (!column) return `the table has no column ${name} (it has ${shape.columns.map((c) => c.name).join(', ')})`;
    if (column.nullable)
      return `column ${name} allows NULL: a row with NULL there has no key, so its changes could not be ordered. Make ${name} NOT NULL, or name NOT NULL columns`;
  }
  return undefined;
}

const nullableColumns = (shape: TableShape) => new Set(shape.columns.filter((c) => c.nullable).map((c) => c.name));
