import { changes, ferryMatchers, runMapping } from 'ferry/testing';
import mapping, { type ProductsRow } from './products';
import { Decimal } from 'ferry';

expect.extend(ferryMatchers);

const row: ProductsRow = {
  id: 1,
  name: 'name',
  description: null,
  price: Decimal.from('1.00'),
  weight: null,
  tags: [],
};

describe('mappings > products', () => {
  it('puts one item per row', () => {
    expect(runMapping(mapping, changes.insert('inventory.products', { ...row }))).toPut({
      pk: 'PRODUCTS#1',
      sk: 'PRODUCTS',
    });
  });

  it('keeps the price exact and the tags as a set', () => {
    const sale = { ...row, price: Decimal.from('19.99'), tags: ['sale', 'gift'] as ProductsRow['tags'] };
    expect(runMapping(mapping, changes.insert('inventory.products', sale))).toPut(
      { pk: 'PRODUCTS#1', sk: 'PRODUCTS' },
      { price: Decimal.from('19.99'), tags: new Set(['sale', 'gift']), onSale: true },
    );
  });

  it('deletes the item when the row is deleted', () => {
    expect(runMapping(mapping, changes.delete('inventory.products', { ...row }))).toDelete({
      pk: 'PRODUCTS#1',
      sk: 'PRODUCTS',
    });
  });
});
