import type { ChangeEvent, KafkaOrigin } from '../core/change-event';
import { UnorderedChangeError } from '../core/errors';
import type { FerryEvents } from '../core/events';

/**
 * Changes are applied in order only because one row's changes share a Kafka key, and so a
 * partition. A change without a key (a table with no primary key) cannot be ordered against its
 * row's other changes: it is refused, holding its partition. A key whose columns change mid-topic
 * (the connector's message.key.columns edited) may have split a row over two partitions: said
 * once per new shape, with the runbook entry.
 */
export class KeyGuard {
  /** Key shapes seen per topic by this process. */
  private readonly shapes = new Map<string, Set<string>>();

  constructor(
    private readonly mapping: string,
    private readonly events?: FerryEvents,
  ) {}

  /** Throws UnorderedChangeError for a change without a key; `origin` is the message's. */
  check(event: ChangeEvent, shape: string | null, origin: KafkaOrigin): void {
    // A TRUNCATE is about the whole table and has no key; the mapping's onTruncate decides.
    if (event.op === 'truncate') return;
    const { topic, partition, offset } = origin;
    if (shape === null)
      throw new UnorderedChangeError(
        `${event.table} has no row key: the change at ${topic}[${partition}]@${offset} has no Kafka key, so its order against the row's other changes cannot be known; nothing after it is written. Fix: give the table a key in the connector with message.key.columns (ferry connector --key ${event.table}=<columns>), or add a primary key; then follow the README runbook "A table without a primary key"`,
      );
    let seen = this.shapes.get(topic);
    if (!seen) this.shapes.set(topic, (seen = new Set()));
    if (seen.has(shape)) return;
    const previous = [...seen];
    seen.add(shape);
    if (previous.length > 0)
      this.events?.emit('source.key-changed', {
        mapping: this.mapping,
        topic,
        partition,
        offset,
        table: event.table,
        from: previous.join(' | '),
        to: shape,
      });
  }
}
