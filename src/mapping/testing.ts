/**
 * ferry/testing: unit-test a mapping without Kafka or DynamoDB. Build Debezium-shaped changes
 * with `changes`, run them through the mapping exactly as the worker does with `runMapping`.
 */
import type { ChangeEvent, Operation, Row } from '../core/change-event';
import { formatVersion } from '../core/version';
import { phaseOf } from '../source/debezium/position';
import { applyMapping } from './apply-mapping';
import { type Mapping, type MappingDefinition, compileMapping } from './define-mapping';

let sequence = 0;

function change(op: Operation, table: string, before: Row | null, after: Row | null, at?: Date): ChangeEvent {
  sequence++;
  const committedAtMs = (at ?? new Date()).getTime();
  return {
    op,
    table,
    before,
    after,
    position: {
      version: formatVersion(1, sequence, 0, phaseOf(op === 'delete' ? 'd' : 'c', op === 'snapshot'), committedAtMs),
      snapshot: op === 'snapshot' && 'initial',
      committedAtMs,
    },
    origin: { topic: `test.${table}`, partition: 0, offset: String(sequence) },
  };
}

/** Builders for the changes Debezium emits; rows hold decoded values (see the README's type rules). */
export const changes = {
  insert: (table: string, after: Row, at?: Date) => change('create', table, null, after, at),
  update: (table: string, before: Row, after: Row, at?: Date) => change('update', table, before, after, at),
  delete: (table: string, before: Row, at?: Date) => change('delete', table, before, null, at),
  snapshot: (table: string, row: Row, at?: Date) => change('snapshot', table, null, row, at),
  truncate: (table: string, at?: Date) => change('truncate', table, null, null, at),
};

/** A write intent without its source event, as tests compare it. */
export type PlainIntent =
  | { kind: 'put'; table: string; key: Record<string, unknown>; item: Record<string, unknown> }
  | { kind: 'delete'; table: string; key: Record<string, unknown> };

/** What the worker would ask DynamoDB to do for these changes; throws what would go to the dead letters. */
export function runMapping(mapping: MappingDefinition<never> | Mapping, ...events: ChangeEvent[]): PlainIntent[] {
  const compiled = 'itemsOf' in mapping ? mapping : compileMapping(mapping);
  return events.flatMap((event) =>
    applyMapping(compiled, event).map((intent) =>
      intent.kind === 'put'
        ? { kind: 'put' as const, table: intent.table, key: intent.key, item: intent.item }
        : { kind: 'delete' as const, table: intent.table, key: intent.key },
    ),
  );
}

/** What Debezium sends after a delete so that compaction can drop the key: the worker skips it. */
export const tombstone = () => null;

const render = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/**
 * Jest matchers for write intents: `expect.extend(ferryMatchers)`, then
 * `expect(runMapping(m, e)).toPut({ pk: 'A#1', sk: 'P' }, { name: 'Ada' })` or `.toDelete(key)`.
 */
export const ferryMatchers = {
  toPut(
    this: jest.MatcherContext,
    received: PlainIntent[],
    key: Record<string, unknown>,
    attributes?: Record<string, unknown>,
  ) {
    const match = received.find((i) => i.kind === 'put' && this.equals(i.key, key));
    const pass =
      match !== undefined &&
      (attributes === undefined ||
        this.equals(match.kind === 'put' ? match.item : {}, expect.objectContaining(attributes)));
    return {
      pass,
      message: () =>
        `expected intents ${pass ? 'not ' : ''}to put ${render(key)}${attributes ? ` with ${render(attributes)}` : ''}\nreceived: ${render(received)}`,
    };
  },
  toDelete(this: jest.MatcherContext, received: PlainIntent[], key: Record<string, unknown>) {
    const pass = received.some((i) => i.kind === 'delete' && this.equals(i.key, key));
    return {
      pass,
      message: () => `expected intents ${pass ? 'not ' : ''}to delete ${render(key)}\nreceived: ${render(received)}`,
    };
  },
} satisfies jest.ExpectExtendMap;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      toPut(key: Record<string, unknown>, attributes?: Record<string, unknown>): R;
      toDelete(key: Record<string, unknown>): R;
    }
  }
}
