/** ferry's public API: what mapping modules and embedding code import from 'ferry'. */
export type { ChangeEvent, Operation, Row, SourcePosition } from './core/change-event';
export type { WriteIntent } from './core/write-intent';
export {
  defineMapping,
  type FanOutMapping,
  type ItemAttributes,
  type ItemKey,
  type MappingDefinition,
  type OnDelete,
  type SingleItemMapping,
} from './mapping/define-mapping';
export { Decimal } from './source/debezium/logical-types';
