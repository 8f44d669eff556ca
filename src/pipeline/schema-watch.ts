import type { ChangeEvent } from '../core/change-event';
import { oneAtATime } from '../core/concurrency';
import { FerryError, describe, isProgrammingError } from '../core/errors';
import type { FerryEvents } from '../core/events';
import { type RetryOptions, createRetry } from '../core/retry';
import { type ColumnsRead, columnsRead, judgeSchemaChange } from '../mapping/columns-read';
import type { Mapping } from '../mapping/define-mapping';
import { type RowSchema, type SchemaJudgement, describeDiff, diffSchemas, isEmptyDiff } from '../core/row-schema';
import type { SchemaRecord } from '../source/kafka/schema-log';

/** Where the last schema seen per mapping is kept (source/kafka/schema-log), so that a restart compares with it. */
export interface SchemaStore {
  last(): Promise<SchemaRecord | undefined>;
  record(record: SchemaRecord): Promise<void>;
}

export interface SchemaWatchDeps {
  mapping: Mapping;
  store: SchemaStore;
  /** Appends an entry to the audit topic. */
  audit: (detail: Record<string, unknown>) => Promise<void>;
  /** Asks Debezium for an incremental snapshot of the mapping's table; returns the signal id. */
  requestSnapshot: () => Promise<string>;
  events?: FerryEvents;
}

/** A schema change seen and not yet recorded. */
interface Pending {
  record: SchemaRecord;
  judgement?: SchemaJudgement;
}

/**
 * Notices when a mapping's source table changes columns, says what that does to the items
 * already written, and acts as the mapping asks (onSchemaChange). A change is the first message
 * whose row schema differs from the last one seen, at a later source position: partitions lag
 * each other, so a message of the old schema arriving after the change, from before it, is not
 * one. The newest schema is kept in Kafka after every change, so a restart neither reports old
 * changes again nor misses one made while no worker ran. Comparing costs a set lookup per
 * message: decoders give one object per distinct schema.
 */
export class SchemaWatch {
  private known?: SchemaRecord;
  /** Schema objects whose columns are the known ones. */
  private same = new WeakSet<RowSchema>();
  private pending: Pending[] = [];
  private reading?: ColumnsRead;
  private readonly serial = oneAtATime();

  constructor(private readonly deps: SchemaWatchDeps) {}

  /** Loads the last schema recorded for the mapping; call once before the first message. */
  async load(): Promise<void> {
    this.known = await this.deps.store.last();
  }

  /** Compares a change's schema with the last one seen. Synchronous: a change is logged before the chunk's dead letters go out. */
  observe(schema: RowSchema | undefined, event: ChangeEvent): void {
    if (schema === undefined || this.same.has(schema)) return;
    const { mapping, events } = this.deps;
    const known = this.known;
    const version = event.position.version;
    const columns = schema.columns;
    const diff = known === undefined ? undefined : diffSchemas({ columns: known.columns }, schema);
    if (known && diff) {
      if (isEmptyDiff(diff)) {
        this.same.add(schema);
        return;
      }
      // An older schema still draining from a partition that lags: not a change.
      if (version < known.version) return;
    }
    const record: SchemaRecord = {
      mapping: mapping.name,
      table: event.table,
      columns,
      version,
      origin: event.origin,
      seenAt: new Date().toISOString(),
      ...(known?.drift ? { drift: known.drift } : {}),
    };
    this.known = record;
    this.same = new WeakSet([schema]);
    if (diff === undefined) {
      // The first schema this mapping's workers ever saw: the baseline, nothing to report.
      this.pending.push({ record });
      return;
    }
    this.reading ??= columnsRead(
      mapping,
      columns.map((c) => c.name),
    );
    const judgement = judgeSchemaChange(diff, this.reading);
    if (judgement.class !== 'harmless')
      record.drift = { version, at: new Date(event.position.committedAtMs).toISOString(), ...judgement };
    events?.emit('source.schema-changed', {
      mapping: mapping.name,
      table: event.table,
      topic: event.origin.topic,
      partition: event.origin.partition,
      offset: event.origin.offset,
      committedAtMs: event.position.committedAtMs,
      changes: describeDiff(diff),
      judgement,
      action: this.actionFor(judgement),
    });
    this.pending.push({ record, judgement });
  }

  /**
   * Records what observe() saw: the schema in Kafka, the change in the audit topic and, when
   * the mapping asks for it, the snapshot requested first (so that a crash before the record asks
   * again). Every failure is retried, holding the partition: a change is never left unrecorded.
   */
  async settle(control: Pick<RetryOptions, 'shouldStop' | 'signal' | 'onRetry'> = {}): Promise<void> {
    if (this.pending.length === 0) return;
    // One chunk at a time: chunks of several partitions may each have seen the change.
    return this.serial(() => this.drain(control));
  }

  private async drain(control: Pick<RetryOptions, 'shouldStop' | 'signal' | 'onRetry'>): Promise<void> {
    const { mapping, store, audit, requestSnapshot, events } = this.deps;
    const retry = createRetry(control);
    while (this.pending.length > 0) {
      const { record, judgement } = this.pending[0] as Pending;
      if (judgement !== undefined) {
        let signal: string | undefined;
        if (this.actionFor(judgement) === 'snapshot') {
          signal = await retry(() => blocking('request a snapshot', requestSnapshot));
          events?.emit('source.snapshot-requested', { mapping: mapping.name, table: record.table, signal });
        }
        await retry(() =>
          blocking('record the schema change in the audit topic', () =>
            audit({
              table: record.table,
              at: record.origin,
              class: judgement.class,
              reasons: judgement.reasons,
              columns: record.columns.map((c) => c.name),
              ...(signal ? { snapshot: signal } : {}),
            }),
          ),
        );
      }
      await retry(() => blocking('record the schema seen', () => store.record(record)));
      this.pending.shift();
    }
  }

  /** A broken mapping would dead-letter every row of a snapshot: that waits for a fixed mapping. */
  private actionFor(judgement: SchemaJudgement): 'snapshot' | 'alert' | 'none' {
    if (judgement.class === 'harmless') return 'none';
    return this.deps.mapping.onSchemaChange === 'snapshot' && judgement.class !== 'mapping breaks'
      ? 'snapshot'
      : 'alert';
  }
}

/** Failing to record a schema change holds the partition until it can be recorded, naming what failed. */
async function blocking<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    if (isProgrammingError(cause)) throw cause;
    throw new FerryError(`cannot ${what}: ${describe(cause)}`, { retriable: true, cause });
  }
}

/** What changed from one schema to the next, and what it means for the mapping's items. */
export function schemaChangeFor(
  mapping: Pick<Mapping, 'functions'>,
  before: RowSchema,
  after: RowSchema,
): { changes: string; judgement: SchemaJudgement } | undefined {
  const diff = diffSchemas(before, after);
  if (isEmptyDiff(diff)) return undefined;
  const reading = columnsRead(
    mapping,
    after.columns.map((c) => c.name),
  );
  return { changes: describeDiff(diff), judgement: judgeSchemaChange(diff, reading) };
}
