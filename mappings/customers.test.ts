import { changes, runMapping } from 'ferry/testing';
import customers, { type CustomerRow } from './customers';

const ada: CustomerRow = {
  id: 7,
  first_name: 'Ada',
  last_name: 'Lovelace',
  email: 'Ada@Example.COM',
  status: 'active',
  created_at: '2024-03-01T13:45:00.123456',
};

describe('mappings > customers', () => {
  it('puts one profile item per inserted customer', () => {
    expect(runMapping(customers, changes.insert('inventory.customers', { ...ada }))).toEqual([
      {
        kind: 'put',
        table: 'ferry-customers',
        key: { pk: 'CUSTOMER#7', sk: 'PROFILE' },
        item: {
          pk: 'CUSTOMER#7',
          sk: 'PROFILE',
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          status: 'active',
          createdAt: '2024-03-01T13:45:00.123456',
        },
      },
    ]);
  });

  it('deletes the item when the customer is deleted', () => {
    expect(runMapping(customers, changes.delete('inventory.customers', { ...ada }))).toEqual([
      { kind: 'delete', table: 'ferry-customers', key: { pk: 'CUSTOMER#7', sk: 'PROFILE' } },
    ]);
  });

  it('moves the item when the primary key changes', () => {
    const intents = runMapping(customers, changes.update('inventory.customers', { ...ada }, { ...ada, id: 8 }));
    expect(intents.map((i) => [i.kind, i.key.pk])).toEqual([
      ['put', 'CUSTOMER#8'],
      ['delete', 'CUSTOMER#7'],
    ]);
  });
});
