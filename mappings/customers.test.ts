import { changes, ferryMatchers, runMapping } from 'ferry/testing';
import customers, { type CustomerRow } from './customers';

expect.extend(ferryMatchers);

const ada: CustomerRow = {
  id: 7,
  first_name: 'Ada',
  last_name: 'Lovelace',
  email: 'Ada@Example.COM',
  status: 'active',
  created_at: '2024-03-01T13:45:00.123456',
};
const key = (id: number) => ({ pk: `CUSTOMER#${id}`, sk: 'PROFILE' });

describe('mappings > customers', () => {
  it('puts one profile item per inserted customer', () => {
    expect(runMapping(customers, changes.insert('inventory.customers', { ...ada }))).toEqual([
      {
        kind: 'put',
        table: 'ferry-customers',
        key: key(7),
        item: {
          ...key(7),
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          status: 'active',
          createdAt: '2024-03-01T13:45:00.123456',
        },
      },
    ]);
  });

  it('writes snapshot reads like inserts', () => {
    expect(runMapping(customers, changes.snapshot('inventory.customers', { ...ada }))).toPut(key(7), {
      name: 'Ada Lovelace',
    });
  });

  it('deletes the item when the customer is deleted', () => {
    const intents = runMapping(customers, changes.delete('inventory.customers', { ...ada }));
    expect(intents).toDelete(key(7));
    expect(intents).toHaveLength(1);
  });

  it('moves the item when the primary key changes', () => {
    const intents = runMapping(customers, changes.update('inventory.customers', { ...ada }, { ...ada, id: 8 }));
    expect(intents).toPut(key(8), { email: 'ada@example.com' });
    expect(intents).toDelete(key(7));
    expect(intents).not.toPut(key(7));
  });
});
