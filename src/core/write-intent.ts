import type { ChangeEvent } from './change-event';

/** What a mapping asks of the sink for one change; the sink adds the version guard. */
export type WriteIntent =
  | { kind: 'put'; table: string; key: Record<string, unknown>; item: Record<string, unknown>; event: ChangeEvent }
  | { kind: 'delete'; table: string; key: Record<string, unknown>; event: ChangeEvent };

/** Identity of the DynamoDB item an intent touches, for coalescing. */
export function itemIdentity(intent: WriteIntent): string {
  const names = Object.keys(intent.key);
  // One or two attributes: swap in place, as Array.prototype.sort allocates on this hot path.
  if (names.length === 2 && (names[0] as string) > (names[1] as string)) names.reverse();
  else if (names.length > 2) names.sort();
  let id = intent.table;
  for (const name of names) id += `\u0000${name}=${keyValueText(intent.key[name])}`;
  return id;
}

function keyValueText(value: unknown): string {
  return value instanceof Uint8Array
    ? `b:${Buffer.from(value).toString('base64')}`
    : `${typeof value}:${String(value)}`;
}
