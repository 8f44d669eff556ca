import type { ChangeEvent } from './change-event';

/** What a mapping asks of the sink for one change; the sink adds the version guard. */
export type WriteIntent =
  | { kind: 'put'; table: string; key: Record<string, unknown>; item: Record<string, unknown>; event: ChangeEvent }
  | { kind: 'delete'; table: string; key: Record<string, unknown>; event: ChangeEvent };

/** Identity of the DynamoDB item an intent touches, for coalescing. */
export function itemIdentity(intent: WriteIntent): string {
  return `${intent.table}\u0000${Object.keys(intent.key)
    .sort()
    .map((name) => `${name}=${keyValueText(intent.key[name])}`)
    .join('\u0000')}`;
}

function keyValueText(value: unknown): string {
  return value instanceof Uint8Array
    ? `b:${Buffer.from(value).toString('base64')}`
    : `${typeof value}:${String(value)}`;
}
