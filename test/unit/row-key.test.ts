import { ConfigError } from '../../src/core/errors';
import { describeRowKey, ownKey, rowKey } from '../../src/source/mysql/row-key';
import type { Column, TableShape } from '../../src/source/mysql/table-shape';

const column = (name: string, nullable = false): Column => ({
  name,
  dataType: 'varchar',
  columnType: 'varchar(20)',
  nullable,
  precision: 0,
});

/** A table of `code NOT NULL, email NULL, status NULL, n NOT NULL`, with the keys given. */
const shape = (keys: Partial<Pick<TableShape, 'primaryKey' | 'uniqueKeys'>> = {}): TableShape => ({
  db: 'shop',
  table: 'legacy',
  columns: [column('code'), column('email', true), column('status', true), column('n')],
  primaryKey: [],
  uniqueKeys: [],
  ...keys,
});

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

const FIX =
  'Fix: give the table a key in the connector with message.key.columns (ferry connector --key shop.legacy=<columns>), or add a primary key';

describe('source > mysql > row key', () => {
  it('is the primary key when the table has one, whatever its unique keys and named columns', () => {
    const table = shape({ primaryKey: ['n'], uniqueKeys: [{ name: 'uk_code', columns: ['code'] }] });
    expect(rowKey(table)).toEqual({ columns: ['n'], origin: { kind: 'primary key' } });
    // A declaration the table has outgrown (a primary key added since) is ignored...
    expect(rowKey(table, ['code'])).toEqual({ columns: ['n'], origin: { kind: 'primary key' } });
    // ...an argument given now is pointed out.
    expect(refusal(() => rowKey(table, ['code'], { whenOwnKey: 'refuse', namedBy: '--key' }))).toBe(
      '--key for shop.legacy: the table has its own key, n (primary key), which ferry uses; --key is only for a table without one',
    );
  });

  it('is else the first unique key whose columns are all NOT NULL, and says which', () => {
    const table = shape({
      uniqueKeys: [
        { name: 'uk_email', columns: ['email'] },
        { name: 'uk_code_n', columns: ['code', 'n'] },
        { name: 'uk_n', columns: ['n'] },
      ],
    });
    const key = rowKey(table);
    expect(key).toEqual({ columns: ['code', 'n'], origin: { kind: 'unique key', name: 'uk_code_n' } });
    expect(describeRowKey(key)).toBe('code, n (unique key `uk_code_n`)');
    expect(ownKey(table)).toEqual(key);
    expect(refusal(() => rowKey(table, ['code'], { whenOwnKey: 'refuse', namedBy: '--key' }))).toMatch(
      /the table has its own key, code, n \(unique key `uk_code_n`\)/,
    );
  });

  it('is else the named columns, which must exist and be NOT NULL', () => {
    const table = shape({ uniqueKeys: [{ name: 'uk_email', columns: ['email'] }] });
    expect(ownKey(table)).toBeUndefined();
    const key = rowKey(table, ['code', 'n'], { whenOwnKey: 'refuse' });
    expect(key).toEqual({ columns: ['code', 'n'], origin: { kind: 'named' } });
    expect(describeRowKey(key)).toBe('code, n (named)');
    const named = (columns: string[]) => refusal(() => rowKey(table, columns, { namedBy: 'source.key' }));
    expect(named(['status'])).toBe(
      'source.key for shop.legacy: column status allows NULL: a row with NULL there has no key, so its changes could not be ordered. Make status NOT NULL, or name NOT NULL columns',
    );
    expect(named(['nope'])).toBe(
      'source.key for shop.legacy: the table has no column nope (it has code, email, status, n)',
    );
    expect(named([])).toBe('source.key for shop.legacy: names no column');
    expect(named(['code', 'code'])).toBe('source.key for shop.legacy: names code twice');
  });

  it('refuses a table with no key and no named columns, naming the table and the fix', () => {
    expect(refusal(() => rowKey(shape()))).toBe(
      `shop.legacy has no primary key and no unique key over NOT NULL columns: its rows cannot be told apart. ${FIX}`,
    );
  });

  it('says why a unique key over nullable columns is no row key, and appends where the caller takes columns', () => {
    const table = shape({ uniqueKeys: [{ name: 'uk_code_email', columns: ['code', 'email'] }] });
    expect(refusal(() => rowKey(table, undefined, { hint: 'then pass the same columns here: --key <columns>' }))).toBe(
      'shop.legacy has no primary key and no unique key over NOT NULL columns (unique key `uk_code_email` (code, email) allows NULL in email, so it does not identify a row): ' +
        `its rows cannot be told apart. ${FIX}; then pass the same columns here: --key <columns>`,
    );
  });
});
