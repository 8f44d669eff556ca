import { defineMapping } from 'ferry';

/** Columns of inventory.customers as ferry decodes them. */
export interface CustomerRow {
  id: number;
  first_name: string;
  last_name: string;
  email: string;
  status: 'active' | 'suspended';
  created_at: string;
}

/** One profile item per customer, keyed for a single-table design. */
export default defineMapping<CustomerRow>({
  name: 'customers',
  source: { table: 'inventory.customers' },
  target: { table: 'ferry-customers', partitionKey: 'pk', sortKey: 'sk' },
  key: (row) => ({ pk: `CUSTOMER#${row.id}`, sk: 'PROFILE' }),
  item: (row) => ({
    email: row.email.toLowerCase(),
    name: `${row.first_name} ${row.last_name}`,
    status: row.status,
    createdAt: row.created_at,
  }),
  onDelete: 'delete',
});
