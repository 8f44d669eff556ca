import { types } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ChangeEvent } from './change-event';

/** An item or key as DynamoDB stores it. */
export type AttributeMap = Record<string, AttributeValue>;

/**
 * What a mapping asks of the sink for one change; the sink adds the version guard. `key` and
 * `item` are what the mapping returned; `attributes` and `keyAttributes` are exactly what is sent.
 */
export type WriteIntent =
  | {
      kind: 'put';
      table: string;
      key: Record<string, unknown>;
      item: Record<string, unknown>;
      attributes: AttributeMap;
      event: ChangeEvent;
    }
  | { kind: 'delete'; table: string; key: Record<string, unknown>; keyAttributes: AttributeMap; event: ChangeEvent };

/** Identity of the DynamoDB item an intent touches, for coalescing. */
export function itemIdentity(intent: Pick<WriteIntent, 'table' | 'key'>): string {
  const names = Object.keys(intent.key);
  // One or two attributes: swap in place, as Array.prototype.sort allocates on this hot path.
  if (names.length === 2 && (names[0] as string) > (names[1] as string)) names.reverse();
  else if (names.length > 2) names.sort();
  let id = intent.table;
  for (const name of names) id += `\u0000${name}=${keyValueText(intent.key[name])}`;
  return id;
}

function keyValueText(value: unknown): string {
  return types.isUint8Array(value) ? `b:${Buffer.from(value).toString('base64')}` : `${typeof value}:${String(value)}`;
}

/** A DynamoDB key attribute of the target table: its name and type. */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N' | 'B';
}
