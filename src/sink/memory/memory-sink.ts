import { type AttributeMap, type WriteIntent, itemIdentity } from '../../core/write-intent';
import { VERSION_ATTRIBUTE } from '../../core/version';
import type { Sink, WriteResult } from '../../core/batch';

/**
 * A Sink that keeps items in memory, for tests and benchmarks. It applies DynamoDbWriter's
 * rules: a put or delete applies only over no item or an item from the same or an older source
 * position, and a put that would create an item only over no remembered delete of the same or a
 * newer position; otherwise the intent is stale.
 */
export class MemorySink implements Sink {
  /** Current items by table, then by item identity (see itemIdentity), with the version they were written from. */
  readonly tables = new Map<string, Map<string, { version: string; item: AttributeMap }>>();
  /** Remembered deletes: the newest delete's version by table and item identity. */
  private readonly deleted = new Map<string, string>();

  async write(intents: WriteIntent[]): Promise<WriteResult> {
    const result: WriteResult = { written: [], stale: [], failed: [] };
    for (const intent of intents) {
      let table = this.tables.get(intent.table);
      if (!table) this.tables.set(intent.table, (table = new Map()));
      const id = itemIdentity(intent);
      const version = intent.event.position.version;
      const current = table.get(id);
      if (intent.kind === 'delete' && !((this.deleted.get(id) ?? '') > version)) this.deleted.set(id, version);
      const remembered = this.deleted.get(id);
      const stale = current
        ? current.version > version
        : intent.kind === 'put' && remembered !== undefined && remembered >= version;
      if (stale) {
        result.stale.push(intent);
        continue;
      }
      if (intent.kind === 'put') table.set(id, { version, item: intent.attributes });
      else table.delete(id);
      result.written.push(intent);
    }
    return result;
  }

  /** Items of one table exactly as DynamoDbWriter would have stored them, in no particular order. */
  items(table: string): AttributeMap[] {
    return [...(this.tables.get(table)?.values() ?? [])].map(({ version, item }) => ({
      ...item,
      [VERSION_ATTRIBUTE]: { S: version },
    }));
  }
}
