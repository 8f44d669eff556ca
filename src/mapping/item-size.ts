/** DynamoDB rejects items over 400 KB. */
export const MAX_ITEM_BYTES = 400 * 1024;

/** An item's size as DynamoDB counts it: attribute names plus values (numbers ~1 byte per 2 digits). */
export function itemSizeBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(String(value));
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, v) => sum + 1 + valueSize(v), 0);
  if (value instanceof Set) return [...value].reduce<number>((sum, v) => sum + valueSize(v), 0);
  if (typeof value === 'object' && 'toAttributeValue' in value) return numberSize(String(value));
  if (typeof value === 'object') {
    return 3 + Object.entries(value).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  }
  return Buffer.byteLength(String(value));
}

function numberSize(text: string): number {
  return Math.ceil(text.replace(/[-.]/g, '').length / 2) + 1;
}
