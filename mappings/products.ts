import { defineMapping, type Decimal } from 'ferry';

/** Columns of inventory.products as ferry decodes them (generated from information_schema). */
export interface ProductsRow {
  id: number;
  name: string;
  description: string | null;
  price: Decimal;
  weight: number | null;
  tags: Array<'new' | 'sale' | 'fragile' | 'bulky' | 'gift'>;
}

export default defineMapping<ProductsRow>({
  name: 'products',
  source: { table: 'inventory.products' },
  target: { table: 'ferry-products', partitionKey: 'pk', sortKey: 'sk' },
  key: (row) => ({ pk: `PRODUCTS#${row.id}`, sk: 'PRODUCTS' }),
  item: (row) => ({
    name: row.name,
    price: row.price,
    // DynamoDB string sets cannot be empty: leave the attribute out instead.
    tags: row.tags.length > 0 ? new Set(row.tags) : undefined,
    onSale: row.tags.includes('sale'),
  }),
  onDelete: 'delete',
});
