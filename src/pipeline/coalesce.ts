import { type WriteIntent, itemIdentity } from '../core/write-intent';

/**
 * Keeps the last intent per DynamoDB item. Intents arrive in partition order, which for any
 * one item is source order, so the last one is the newest; the version guard orders items
 * that several partitions write.
 */
export function coalesce(intents: readonly WriteIntent[]): WriteIntent[] {
  const last = new Map<string, WriteIntent>();
  for (const intent of intents) {
    const id = itemIdentity(intent);
    last.delete(id); // re-insert so the map keeps the order of last occurrence
    last.set(id, intent);
  }
  return [...last.values()];
}
