import { defineMapping, type Decimal } from 'ferry';

/** Columns of inventory.orders as ferry decodes them (generated from information_schema). */
export interface OrdersRow {
  order_number: number;
  order_date: string;
  purchaser: number;
  product_id: number;
  quantity: number;
  total: Decimal;
}

export default defineMapping<OrdersRow>({
  name: 'orders',
  source: { table: 'inventory.orders' },
  target: { table: 'ferry-orders', partitionKey: 'pk', sortKey: 'sk' },
  key: (row) => ({ pk: `ORDERS#${row.order_number}`, sk: 'ORDERS' }),
  item: (row) => ({
    orderDate: row.order_date,
    customer: `CUSTOMERS#${row.purchaser}`,
    product: `PRODUCTS#${row.product_id}`,
    quantity: row.quantity,
    total: row.total,
  }),
  onDelete: 'delete',
});
