import type { RowSchema } from '../../core/row-schema';
import { type ConnectSchema, columnName } from './logical-types';

const SOURCE_TYPE = '__debezium.source.column.type';

/**
 * The row struct's columns, from the `before`/`after` field of a change event's Connect schema.
 * A type is the Connect type, its logical name, a decimal's scale and the source type when the
 * connector propagates it: what changes the values a column's rows carry.
 */
export function rowSchemaOf(row: ConnectSchema): RowSchema {
  return {
    columns: (row.fields ?? []).map((field) => {
      const scale = field.parameters?.scale;
      const type = [
        field.type,
        field.name,
        scale === undefined ? undefined : `scale ${scale}`,
        field.parameters?.[SOURCE_TYPE],
      ]
        .filter(Boolean)
        .join('/');
      return {
        name: columnName(field),
        type,
        optional: field.optional === true,
        ...(field.default === undefined || field.default === null ? {} : { default: field.default }),
      };
    }),
  };
}
