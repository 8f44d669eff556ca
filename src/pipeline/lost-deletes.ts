import type { KafkaOrigin, Row } from '../core/change-event';
import { mapConcurrent } from '../core/concurrency';
import { describe } from '../core/errors';
import type { FerryEvents, LoneTombstoneOutcome } from '../core/events';
import { type RetryOptions, RetryAbortedError, createRetry } from '../core/retry';
import { parseVersion } from '../core/version';
import type { AttributeMap } from '../core/write-intent';
import { preparedKey } from '../mapping/apply-mapping';
import type { Mapping } from '../mapping/define-mapping';
import { readableItem } from '../mapping/prepare-item';
import type { HeldVersion } from '../sink/dynamodb/item-versions';
import type { KeyDecoder } from '../source/debezium/envelope';

/** Reads the version an item holds (sink/dynamodb/item-versions). */
export interface ItemVersions {
  versionOf(table: string, key: AttributeMap): Promise<HeldVersion>;
}

export interface LostDeleteDeps {
  mapping: Mapping;
  decoder: KeyDecoder;
  items: ItemVersions;
  events?: FerryEvents;
}

/** A Kafka message as the check reads it. */
interface Message {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp?: string;
}

/** How a lone tombstone's reads are retried: as the chunk's writes are, blocking the partition. */
export type CheckControl = Pick<RetryOptions, 'shouldStop' | 'signal' | 'onRetry'>;

/** Item reads in flight for one chunk's lone tombstones (a rebuild replays one per deleted row). */
const READ_CONCURRENCY = 16;

interface Checked {
  outcome: LoneTombstoneOutcome;
  reason?: string;
  lost?: Array<{ key: Record<string, unknown>; version: string }>;
}

/**
 * Finds deletes that compaction took before the worker read them. Debezium writes a row's
 * delete as a delete event followed by a tombstone (same key, no value). On a compacted topic
 * the delete event may go once it is min.compaction.lag.ms old while its tombstone stays
 * delete.retention.ms more: a worker that lagged that long reads the tombstone alone and never
 * deletes the item. A tombstone carries no source position, so nothing is deleted here: the item
 * its Kafka key maps to is read once, and an item written before the tombstone is reported, to
 * be repaired by verify. A lone tombstone whose row has no item (a rebuild into an empty table
 * replaying a compacted topic, a delete already applied) is normal. Ordinary messages cost
 * nothing but remembering a partition's last one.
 */
export class LostDeleteCheck {
  /** Per partition, the last message this process read, when it was a change: the delete a tombstone right after it follows. */
  private readonly lastChange = new Map<string, { offset: bigint; key: Buffer }>();

  constructor(private readonly deps: LostDeleteDeps) {}

  /**
   * Checks the tombstones among `messages` (their indexes) that do not follow a change of their
   * key, once the chunk's writes are durable; returns when every check is done.
   */
  async check(
    topic: string,
    partition: number,
    messages: readonly Message[],
    tombstones: readonly number[],
    control: CheckControl = {},
  ): Promise<void> {
    const id = `${topic}\u0000${partition}`;
    // A mapping that keeps items on delete loses nothing when a delete event is lost.
    if (tombstones.length > 0 && this.deps.mapping.onDelete !== 'ignore') {
      const before = this.lastChange.get(id);
      const lone = tombstones.filter((i) => {
        const tombstone = messages[i] as Message;
        if (!hasKey(tombstone)) return false;
        const previous = i > 0 ? changeAt(messages[i - 1] as Message) : before;
        return !(previous && previous.offset + 1n === BigInt(tombstone.offset) && previous.key.equals(tombstone.key));
      });
      if (lone.length > 0) await this.checkLone(topic, partition, messages, lone, control);
    }
    const last = messages.at(-1);
    const change = last && changeAt(last);
    // A copy: never pin kafkajs's fetch buffer.
    if (change) this.lastChange.set(id, { offset: change.offset, key: Buffer.from(change.key) });
    else this.lastChange.delete(id);
  }

  private async checkLone(
    topic: string,
    partition: number,
    messages: readonly Message[],
    lone: number[],
    control: CheckControl,
  ): Promise<void> {
    const { mapping, events } = this.deps;
    const lastIndexOf = new Map<string, number>();
    messages.forEach((m, i) => hasKey(m) && lastIndexOf.set(m.key.toString('latin1'), i));
    const retry = createRetry(control);
    await mapConcurrent(lone, READ_CONCURRENCY, async (i) => {
      const tombstone = messages[i] as Message & { key: Buffer };
      const origin = { topic, partition, offset: tombstone.offset };
      // The row's newer change in this chunk is written already: what the delete would have done is overwritten.
      const checked: Checked =
        (lastIndexOf.get(tombstone.key.toString('latin1')) ?? i) > i
          ? { outcome: 'changed-again' }
          : await this.checkOne(tombstone, origin, retry);
      events?.emit('source.lone-tombstone', {
        mapping: mapping.name,
        ...origin,
        outcome: checked.outcome,
        ...(checked.reason === undefined ? {} : { reason: checked.reason }),
      });
      if (checked.lost)
        events?.emit('sink.lost-delete', {
          mapping: mapping.name,
          table: mapping.targetTable,
          sourceTable: mapping.sourceTable,
          ...origin,
          tombstoneAtMs: Number(tombstone.timestamp),
          items: checked.lost,
        });
    });
  }

  private async checkOne(
    tombstone: Message & { key: Buffer },
    origin: KafkaOrigin,
    retry: ReturnType<typeof createRetry>,
  ): Promise<Checked> {
    const { mapping, decoder, items } = this.deps;
    let columns: Row | null;
    try {
      columns = await retry(() => decoder.keyRow(tombstone.key, origin));
    } catch (err) {
      if (err instanceof RetryAbortedError) throw err;
      return { outcome: 'key-not-derivable', reason: `the Kafka key cannot be read: ${describe(err)}` };
    }
    if (columns === null) return { outcome: 'key-not-derivable', reason: 'the Kafka key has no columns' };
    const derived = keysOfKeyColumns(mapping, columns);
    if ('reason' in derived) return { outcome: 'key-not-derivable', reason: derived.reason };
    const tombstoneAtMs = Number(tombstone.timestamp);
    if (!(tombstoneAtMs > 0)) return { outcome: 'not-checked', reason: 'the tombstone has no timestamp' };

    const lost: NonNullable<Checked['lost']> = [];
    let found = false;
    for (const attributes of derived.keys) {
      let held: HeldVersion;
      try {
        held = await retry(() => items.versionOf(mapping.targetTable, attributes));
      } catch (err) {
        if (err instanceof RetryAbortedError) throw err;
        return { outcome: 'not-checked', reason: `reading the item failed: ${describe(err)}` };
      }
      if (!held.found) continue;
      found = true;
      const version = parseVersion(held.version);
      if (version === undefined)
        return {
          outcome: 'not-checked',
          reason: `the item's version "${held.version}" is not in a format ferry reads`,
        };
      // An item written by the delete itself (phase 1) is a soft delete: applied, not lost.
      if (version.phase !== 1 && version.committedAtMs <= tombstoneAtMs)
        lost.push({ key: readableItem(attributes), version: held.version as string });
    }
    if (lost.length > 0) return { outcome: 'lost-delete', lost };
    return { outcome: found ? 'item-newer' : 'no-item' };
  }
}

const hasKey = (message: Message): message is Message & { key: Buffer } =>
  message.key !== null && message.key.length > 0;

/** The message as the change a tombstone may follow: a keyed message with a value. */
function changeAt(message: Message): { offset: bigint; key: Buffer } | undefined {
  return hasKey(message) && message.value !== null && message.value.length > 0
    ? { offset: BigInt(message.offset), key: message.key }
    : undefined;
}

/** Thrown by a row of key columns when the mapping reads any other column. */
class ColumnNotInKey {
  constructor(readonly column: string) {}
}

/**
 * The item keys the mapping gives a row of which only the Kafka key's columns are known, or why
 * it cannot give them: a key that reads any other column may depend on it. The filter is not
 * asked: a row it leaves out has no item to find.
 */
export function keysOfKeyColumns(mapping: Mapping, columns: Row): { keys: AttributeMap[] } | { reason: string } {
  let outside: string | undefined;
  const notInKey = (column: string): never => {
    outside ??= column;
    throw new ColumnNotInKey(column);
  };
  const row = new Proxy(columns, {
    get: (target, property, receiver) =>
      typeof property === 'string' && !Object.hasOwn(target, property)
        ? notInKey(property)
        : Reflect.get(target, property, receiver),
    has: (target, property) =>
      typeof property === 'string' && !Object.hasOwn(target, property)
        ? notInKey(property)
        : Reflect.has(target, property),
    ownKeys: () => notInKey('(every column)'),
  });
  const notDerivable = (column: string) => ({
    reason: `the mapping's key reads column "${column}", which the Kafka key does not carry`,
  });
  let keys: unknown[];
  try {
    keys = mapping.keysOf(row);
  } catch (err) {
    if (outside !== undefined) return notDerivable(outside);
    return { reason: `the mapping's key threw on the key columns: ${describe(err)}` };
  }
  // Read even if the mapping caught the throw: its key may depend on that column.
  if (outside !== undefined) return notDerivable(outside);
  try {
    return { keys: keys.map((key) => preparedKey(mapping, key)) };
  } catch (err) {
    return { reason: describe(err) };
  }
}
