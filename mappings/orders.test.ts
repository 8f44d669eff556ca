import { changes, ferryMatchers, runMapping } from 'ferry/testing';
import mapping, { type OrdersRow } from './orders';
import { Decimal } from 'ferry';

expect.extend(ferryMatchers);

const row: OrdersRow = {
  order_number: 1,
  order_date: '2026-03-01',
  purchaser: 1,
  product_id: 1,
  quantity: 1,
  total: Decimal.from('1.00'),
};

describe('mappings > orders', () => {
  it('puts one item per row', () => {
    expect(runMapping(mapping, changes.insert('inventory.orders', { ...row }))).toPut({ pk: 'ORDERS#1', sk: 'ORDERS' });
  });

  it('refers to the customer and product items by their keys', () => {
    const intents = runMapping(
      mapping,
      changes.insert('inventory.orders', { ...row, purchaser: 1001, product_id: 102 }),
    );
    expect(intents).toPut({ pk: 'ORDERS#1', sk: 'ORDERS' }, { customer: 'CUSTOMERS#1001', product: 'PRODUCTS#102' });
  });

  it('deletes the item when the row is deleted', () => {
    expect(runMapping(mapping, changes.delete('inventory.orders', { ...row }))).toDelete({
      pk: 'ORDERS#1',
      sk: 'ORDERS',
    });
  });
});
