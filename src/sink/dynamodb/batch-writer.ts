import type { KeysAndAttributes, WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Sink, WriteControl, WriteResult } from '../../core/batch';
import { mapConcurrent } from '../../core/concurrency';
import { SinkWriteError } from '../../core/errors';
import type { FerryEvents } from '../../core/events';
import { VERSION_ATTRIBUTE, VERSION_FORMAT } from '../../core/version';
import type { AttributeMap, WriteIntent } from '../../core/write-intent';
import { DELETE_KEY, deleteId, deleteRecord } from './deletes';
import { type WriterOptions, staleOrRefused, writeRetry } from './dynamodb-writer';
import { classifyDynamoDbError, isThrottle } from './errors';
import { versionProjection } from './item-versions';
import type { DynamoDbBatches } from './lean-client';
import { KnownStates, type WrittenKeys } from './written-keys';

/** DynamoDB's limits: 25 writes and 100 reads per request (16 MB either way; items are under 400 KB). */
const WRITES_PER_REQUEST = 25;
const READS_PER_REQUEST = 100;
/** Batch requests in flight for one chunk. */
const REQUESTS_IN_FLIGHT = 8;

/**
 * Writes a rebuild's shadow table with BatchWriteItem, which carries no conditions. That is safe
 * because the shadow table is new and this writer is its only writer until the cutover, and
 * because a key is written by one chunk at a time: the versions an item and its remembered delete hold
 * are read (BatchGetItem, consistent) and compared in the process, so what a conditional write
 * would have refused is refused here (stale, or a version of another format, blocking), and
 * nothing can write a key between its read and its write. Deletes are remembered as the worker's are,
 * so the worker deployed on the shadow table after the cutover keeps the guarantee. A batch that
 * DynamoDB refuses whole (an invalid item among 25) is written again through the conditional
 * writer, which tells the item at fault from the others. When this rebuild created the table,
 * a key it has not written yet is neither there nor remembered as deleted: only the keys it may
 * have written are read (see WrittenKeys). A key it has just written holds what it wrote, which
 * it keeps for the last ones (KnownStates): not read either.
 */
export class BatchRebuildWriter implements Sink {
  /** The chunk being written for each item key (keyText): a key is in one chunk at a time. */
  private readonly writing = new Map<string, Promise<unknown>>();
  /** What the keys written last hold, as this writer wrote them. */
  private readonly known = new KnownStates();

  constructor(
    private readonly client: DynamoDbBatches,
    private readonly options: WriterOptions,
    /** The conditional writer, for what a batch cannot say item by item. */
    private readonly conditional: Sink,
    private readonly events?: FerryEvents,
    /** Given when this writer's rebuild created the table: the keys it has written to it. */
    private readonly written?: WrittenKeys,
  ) {}

  async write(intents: WriteIntent[], control: WriteControl = {}): Promise<WriteResult> {
    // Reading a key's versions and writing it must not interleave with another chunk's: a chunk
    // waits for those holding any of its keys (partitions rarely share one: a key change, a fan-out).
    const keys = intents.map((i) => keyText(i.table, keyOf(i)));
    for (;;) {
      const holders = new Set(keys.map((k) => this.writing.get(k)).filter((p) => p !== undefined));
      if (holders.size === 0) break;
      await Promise.allSettled(holders);
    }
    const chunk = this.writeChunk(intents, keys, control);
    for (const key of keys) this.writing.set(key, chunk);
    try {
      return await chunk;
    } finally {
      for (const key of keys) if (this.writing.get(key) === chunk) this.writing.delete(key);
    }
  }

  private async writeChunk(intents: WriteIntent[], keys: string[], control: WriteControl): Promise<WriteResult> {
    const result: WriteResult = { written: [], stale: [], failed: [] };
    if (intents.length === 0) return result;
    const retry = writeRetry(this.options, control, () => intents[0], this.events);
    const deletes = this.options.deletes.table;
    const recordKey = (i: WriteIntent) => ({ [DELETE_KEY]: { S: deleteId(i.table, i.key, keyOf(i)) } });

    let held: Map<string, AttributeMap>;
    let remembered: Map<string, AttributeMap>;
    const { written, known } = this;
    // A key whose state this writer knows, or (into a table it created) has never written, is not read.
    const knownBefore = keys.map((key) => known.get(key));
    const toRead = intents.filter(
      (_i, n) => knownBefore[n] === undefined && (written?.mayHave(keys[n] as string) ?? true),
    );
    // Before writing: should this chunk fail and come again, its keys are read then.
    for (const key of keys) {
      written?.add(key);
      known.forget(key);
    }
    try {
      held = await retry(() => this.versions(toRead.map((i) => ({ table: i.table, key: keyOf(i) }))));
      // A put over an item needs no delete record: only deletes and puts where no item is do.
      const unheld = toRead.filter((i) => i.kind === 'delete' || !held.has(keyText(i.table, keyOf(i))));
      remembered = await retry(() => this.versions(unheld.map((i) => ({ table: deletes, key: recordKey(i) }))));
    } catch (err) {
      // Reads refused for good (a key DynamoDB finds invalid): the conditional writer says which item.
      if (err instanceof SinkWriteError && !err.retriable) return this.conditional.write(intents, control);
      throw err;
    }
    // What is known, as a read would have found it.
    intents.forEach((intent, n) => {
      const state = knownBefore[n];
      if (state && 'item' in state) held.set(keys[n] as string, versioned(state.item));
      else if (state) remembered.set(keyText(deletes, recordKey(intent)), versioned(state.deleted));
    });

    // What the conditional writer says of them: a refusal (another format, a source that went back) blocks there.
    const refused: WriteIntent[] = [];
    /** What a conditional write would have answered, losing to `held`. */
    const lose = (intent: WriteIntent, held: AttributeMap) => {
      if (staleOrRefused(intent, held) === 'stale') result.stale.push(intent);
      else refused.push(intent);
    };
    const requests: Array<{
      intent: WriteIntent;
      key: string;
      writes: Array<{ table: string; request: WriteRequest }>;
    }> = [];
    for (const [n, intent] of intents.entries()) {
      const key = keys[n] as string;
      const version = intent.event.position.version;
      const item = held.get(key);
      const record = remembered.get(keyText(deletes, recordKey(intent)));
      if (intent.kind === 'put') {
        // As the conditional writer refuses: an item of a newer position or another format; where
        // there is no item, a remembered delete of the same or a newer position.
        const against = item
          ? newer(item, version, true)
            ? item
            : undefined
          : record && newer(record, version, false)
            ? record
            : undefined;
        if (against) {
          lose(intent, against);
          continue;
        }
        requests.push({
          intent,
          key,
          writes: [
            {
              table: intent.table,
              request: { PutRequest: { Item: { ...intent.attributes, [VERSION_ATTRIBUTE]: { S: version } } } },
            },
          ],
        });
      } else {
        if (item && newer(item, version, true)) {
          lose(intent, item);
          continue;
        }
        const writes: Array<{ table: string; request: WriteRequest }> = [];
        // Remembered unless a newer delete already is.
        if (!(record && newer(record, version, true)))
          writes.push({
            table: deletes,
            request: {
              PutRequest: {
                Item: deleteRecord(intent.table, intent.key, intent.keyAttributes, version, this.options.deletes),
              },
            },
          });
        if (item) writes.push({ table: intent.table, request: { DeleteRequest: { Key: intent.keyAttributes } } });
        requests.push({ intent, key, writes });
      }
    }

    // Whole intents per request, 25 writes at most.
    const batches: Array<typeof requests> = [];
    let current: typeof requests = [];
    let size = 0;
    for (const r of requests) {
      if (size + r.writes.length > WRITES_PER_REQUEST) {
        batches.push(current);
        [current, size] = [[], 0];
      }
      current.push(r);
      size += r.writes.length;
    }
    if (current.length > 0) batches.push(current);

    await mapConcurrent(batches, REQUESTS_IN_FLIGHT, async (batch) => {
      const byTable: Record<string, WriteRequest[]> = {};
      for (const { writes } of batch) for (const { table, request } of writes) (byTable[table] ??= []).push(request);
      try {
        await retry(() => this.batchWrite(byTable));
        result.written.push(...batch.map((r) => r.intent));
      } catch (err) {
        // Refused whole for one item's sake: the conditional writer says which.
        if (err instanceof SinkWriteError && !err.retriable) refused.push(...batch.map((r) => r.intent));
        else throw err;
      }
    });
    // What the table now holds of each key written: the next change of it needs no read.
    const refusedNow = new Set(refused);
    for (const { intent, key } of requests) {
      if (refusedNow.has(intent)) continue;
      const version = intent.event.position.version;
      if (intent.kind === 'put') known.set(key, { item: version });
      else {
        const record = remembered.get(keyText(deletes, recordKey(intent)))?.[VERSION_ATTRIBUTE]?.S;
        if (record === undefined || (record.startsWith(VERSION_FORMAT) && record < version))
          known.set(key, { deleted: version });
        else if (record.startsWith(VERSION_FORMAT)) known.set(key, { deleted: record });
      }
    }
    if (refused.length > 0) {
      const again = await this.conditional.write(refused, control);
      result.written.push(...again.written);
      result.stale.push(...again.stale);
      result.failed.push(...again.failed);
    }
    return result;
  }

  /** The version each key holds (undefined: the item is there without one), by keyText; absent keys are not in the map. */
  private async versions(keys: Array<{ table: string; key: AttributeMap }>): Promise<Map<string, AttributeMap>> {
    const found = new Map<string, AttributeMap>();
    const unique = new Map(keys.map((k) => [keyText(k.table, k.key), k]));
    const pages: Array<typeof keys> = [];
    const list = [...unique.values()];
    for (let i = 0; i < list.length; i += READS_PER_REQUEST) pages.push(list.slice(i, i + READS_PER_REQUEST));
    await mapConcurrent(pages, REQUESTS_IN_FLIGHT, async (page) => {
      let request: Record<string, KeysAndAttributes> = {};
      for (const { table, key } of page) {
        const names = Object.keys(key);
        // Only the key and the version come back.
        const entry = (request[table] ??= { Keys: [], ConsistentRead: true, ...versionProjection(names) });
        (entry.Keys ??= []).push(key);
      }
      for (let attempt = 0; Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await backoff(attempt);
        const answer = await this.send(Object.keys(request)[0], () =>
          this.client.batchGetItem({ RequestItems: request }),
        );
        for (const [table, items] of Object.entries(answer.Responses ?? {}))
          for (const item of items) {
            const names = Object.keys(page.find((k) => k.table === table)?.key ?? {});
            found.set(keyText(table, pick(item, names)), item);
          }
        request = answer.UnprocessedKeys ?? {};
      }
    });
    return found;
  }

  private async batchWrite(byTable: Record<string, WriteRequest[]>): Promise<void> {
    let pending = byTable;
    for (let attempt = 0; Object.keys(pending).length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const answer = await this.send(Object.keys(pending)[0], () =>
        this.client.batchWriteItem({ RequestItems: pending }),
      );
      pending = answer.UnprocessedItems ?? {};
    }
  }

  private async send<T>(table = '?', call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isThrottle(err)) this.events?.emit('sink.throttled', { table });
      throw classifyDynamoDbError(err, table);
    }
  }
}

const versioned = (version: string): AttributeMap => ({ [VERSION_ATTRIBUTE]: { S: version } });

/** Whether `held` (an item or a remembered delete) wins over `version`: newer (or, for a delete record, the same), or of another format. */
function newer(held: AttributeMap, version: string, itemRules: boolean): boolean {
  const text = held[VERSION_ATTRIBUTE]?.S;
  if (text === undefined) return false;
  if (!text.startsWith(VERSION_FORMAT)) return true;
  return itemRules ? text > version : text >= version;
}

const keyOf = (i: WriteIntent) => (i.kind === 'put' ? keyAttributes(i) : i.keyAttributes);

function keyAttributes(intent: Extract<WriteIntent, { kind: 'put' }>): AttributeMap {
  return pick(intent.attributes, Object.keys(intent.key));
}

const pick = (item: AttributeMap, names: string[]): AttributeMap =>
  Object.fromEntries(names.map((n) => [n, item[n] as AttributeMap[string]]));

/** A table and key as one string, for matching reads to intents. */
function keyText(table: string, key: AttributeMap): string {
  let text = table;
  for (const name of Object.keys(key).sort()) {
    const v = key[name];
    text += `\u0000${name}=${v?.S !== undefined ? `S${v.S}` : v?.N !== undefined ? `N${v.N}` : `B${Buffer.from(v?.B ?? []).toString('base64')}`}`;
  }
  return text;
}

/** Unprocessed keys and items are sent again after a growing, jittered pause. */
const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 50 * 2 ** attempt)));
