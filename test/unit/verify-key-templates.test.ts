import type { Row } from '../../src/core/change-event';
import type { AttributeMap } from '../../src/core/write-intent';
import type { KeyAttribute } from '../../src/core/write-intent';
import { KeyTemplates } from '../../src/verify/key-templates';
import type { Column } from '../../src/verify/source-reader';

const column = (name: string, dataType: string): Column => ({
  name,
  dataType,
  columnType: dataType,
  nullable: false,
  precision: 0,
});
const S = (s: string) => ({ S: s });
const pkSk: KeyAttribute[] = [
  { name: 'pk', type: 'S' },
  { name: 'sk', type: 'S' },
];

/** Learns from every row, as verify's source pass does; returns the keys no template traces. */
function learnAll(templates: KeyTemplates, keyed: Array<[Row, AttributeMap]>): AttributeMap[] {
  return keyed.filter(([row, key]) => !templates.learn(row, key)).map(([, key]) => key);
}
const lookups = (templates: KeyTemplates, key: AttributeMap) =>
  templates.trace(key).lookups.map((l) => [l.columns.join(','), l.tuple.map(String).join(',')]);

describe('verify > key templates', () => {
  it('traces `I#{id}` keys back to the primary key, whichever id the key names', () => {
    const t = new KeyTemplates(pkSk, [column('id', 'int'), column('note', 'varchar')], [['id']]);
    const rows = [1, 2, 17, 300].map((id): [Row, AttributeMap] => [
      { id, note: `n${id}` },
      { pk: S(`I#${id}`), sk: S('ITEM') },
    ]);
    expect(learnAll(t, rows)).toEqual([]);
    expect(t.describe()).toEqual(['pk="I#{id}" sk="ITEM"']);
    expect(lookups(t, { pk: S('I#123456'), sk: S('ITEM') })).toEqual([['id', '123456']]);
    // Not a key any row of this shape makes: nothing to look up, so it is an extra.
    expect(lookups(t, { pk: S('I#007'), sk: S('ITEM') })).toEqual([]);
    expect(lookups(t, { pk: S('X#1'), sk: S('ITEM') })).toEqual([]);
    expect(lookups(t, { pk: S('I#1'), sk: S('OTHER') })).toEqual([]);
  });

  it('learns one template per fan-out item, through the primary key or another unique key', () => {
    const t = new KeyTemplates(
      pkSk,
      [column('id', 'int'), column('email', 'varchar'), column('tier', 'enum')],
      [['id'], ['email']],
    );
    const rows: Array<[Row, AttributeMap]> = [];
    for (const [id, email] of [
      [1, 'user1@example.com'],
      [2, 'user2@example.com'],
      [3, 'someone#else@example.com'],
    ] as const) {
      const row = { id, email, tier: 'free' };
      rows.push(
        [row, { pk: S(`ACCOUNT#${id}`), sk: S('PROFILE') }],
        [row, { pk: S(`EMAIL#${email}`), sk: S('ACCOUNT') }],
      );
    }
    expect(learnAll(t, rows)).toEqual([]);
    expect(t.describe()).toEqual(
      expect.arrayContaining(['pk="ACCOUNT#{id}" sk="PROFILE"', 'pk="EMAIL#{email}" sk="ACCOUNT"']),
    );
    expect(lookups(t, { pk: S('EMAIL#who#ever@example.com'), sk: S('ACCOUNT') })).toContainEqual([
      'email',
      'who#ever@example.com',
    ]);
    expect(lookups(t, { pk: S('ACCOUNT#99'), sk: S('PROFILE') })).toContainEqual(['id', '99']);
  });

  it('reads a composite key every way it can be read, so the row that made it is always among them', () => {
    const t = new KeyTemplates(
      [{ name: 'pk', type: 'S' }],
      [column('tenant', 'varchar'), column('user', 'varchar')],
      [['tenant', 'user']],
    );
    expect(learnAll(t, [[{ tenant: 'acme', user: 'bob' }, { pk: S('acme#bob') }]])).toEqual([]);
    expect(lookups(t, { pk: S('a#b#c') })).toEqual(
      expect.arrayContaining([
        ['tenant,user', 'a,b#c'],
        ['tenant,user', 'a#b,c'],
      ]),
    );
  });

  it('traces numbers and binary keys', () => {
    const t = new KeyTemplates(
      [
        { name: 'id', type: 'N' },
        { name: 'uuid', type: 'B' },
      ],
      [column('id', 'bigint'), column('uuid', 'binary')],
      [['id', 'uuid']],
    );
    const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(
      learnAll(t, [
        [
          { id: 12n ** 20n, uuid },
          { id: { N: String(12n ** 20n) }, uuid: { B: uuid } },
        ],
      ]),
    ).toEqual([]);
    const [lookup] = t.trace({ id: { N: '42' }, uuid: { B: Buffer.from('ff', 'hex') } }).lookups;
    expect(lookup?.tuple).toEqual(['42', Buffer.from('ff', 'hex')]);
  });

  it('says so when a key is no template of a unique key: a hash, or a column that is not unique', () => {
    const t = new KeyTemplates(pkSk, [column('id', 'int'), column('tier', 'varchar')], [['id']]);
    const hashed: [Row, AttributeMap] = [
      { id: 5, tier: 'pro' },
      { pk: S('e3b0c44298fc1c14'), sk: S('X') },
    ];
    const byTier: [Row, AttributeMap] = [
      { id: 6, tier: 'pro' },
      { pk: S('TIER#pro'), sk: S('X') },
    ];
    expect(learnAll(t, [hashed, byTier])).toEqual([hashed[1], byTier[1]]);
    expect(t.describe()).toEqual([]);
  });

  it('drops templates that only fit by coincidence, so room is left for the ones that matter', () => {
    const t = new KeyTemplates([{ name: 'pk', type: 'S' }], [column('id', 'int')], [['id']]);
    // id 2 in "ORDER#2024#2" reads four ways; only ORDER#2024#{id} fits the next rows.
    const rows = [2, 3, 4, 5].map((id): [Row, AttributeMap] => [{ id }, { pk: S(`ORDER#2024#${id}`) }]);
    expect(learnAll(t, rows)).toEqual([]);
    // 40 more shapes of key, each learned from a row: the coincidental ones give way.
    const more = Array.from({ length: 40 }, (_, i): [Row, AttributeMap] => [
      { id: 1000 + i },
      { pk: S(`K${String.fromCharCode(65 + (i % 26))}${i}#${1000 + i}`) },
    ]);
    const untraced = learnAll(t, more);
    expect(untraced.length).toBeLessThan(40);
    for (const [row, key] of [...rows, ...more])
      if (!untraced.includes(key)) expect(lookups(t, key)).toContainEqual(['id', String((row as { id: number }).id)]);
  });
});
