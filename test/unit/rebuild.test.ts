/**
 * `ferry rebuild` against a topic that never stops growing, and a worker that crashes, with
 * Kafka, DynamoDB and the worker replaced by fakes: only the command's own logic runs.
 */
import type { PartitionOffsets } from '../../src/source/kafka/offsets';
import { catchUp } from '../../src/source/kafka/catch-up';
import { runFerry } from '../support/cli';

const mockState = {
  polls: 0,
  /** Offsets the fake group reports at each poll. */
  offsets: (_poll: number): PartitionOffsets[] => [],
  workerFailure: undefined as Error | undefined,
  stopped: 0,
  /** What the topic's history check finds missing. */
  missing: [] as string[],
};

jest.mock('../../src/cli/context', () => ({
  commandContext: async () => ({
    config: { mapping: 'things.ts', dynamodb: {}, kafka: { topicPrefix: 'p' }, http: { port: 9464 } },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
    mapping: {
      name: 'things',
      sourceTable: 'db.things',
      targetTable: 'things',
      partitionKey: { name: 'pk', type: 'S' },
    },
    topic: 'p.db.things',
    groupId: 'ferry.things',
    kafka: () => ({}),
    admin: async () => ({ listTopics: async () => ['p.db.things'] }),
    close: async () => undefined,
  }),
}));
jest.mock('../../src/sink/dynamodb/client', () => ({ createDynamoDbClient: () => ({}) }));
jest.mock('../../src/sink/dynamodb/table-admin', () => ({ ensureTable: async () => 'created' }));
jest.mock('../../src/source/kafka/audit', () => ({ recordAudit: async () => undefined }));
jest.mock('../../src/source/kafka/offsets', () => ({
  ...jest.requireActual('../../src/source/kafka/offsets'),
  resetGroupOffsets: async () => [],
  groupOffsets: async () => mockState.offsets(++mockState.polls),
}));
jest.mock('../../src/source/debezium/create-decoder', () => ({ createDecoder: () => ({}) }));
jest.mock('../../src/source/kafka/history', () => ({
  ...jest.requireActual('../../src/source/kafka/history'),
  topicHistory: async (_k: unknown, _a: unknown, { topic }: { topic: string }) => ({
    topic,
    policy: {},
    partitions: [],
    complete: mockState.missing.length === 0,
    missing: mockState.missing,
  }),
}));
jest.mock('../../src/worker', () => {
  const { FerryEvents } = jest.requireActual('../../src/core/events');
  return {
    ...jest.requireActual('../../src/worker'),
    Worker: class {
      readonly events = new FerryEvents();
      readonly failed = new Promise((resolve) => {
        if (mockState.workerFailure) setTimeout(() => resolve(mockState.workerFailure), 10);
      });
      async start() {}
      async stop() {
        mockState.stopped++;
      }
    },
  };
});

const partitions = (end: number, committed: number): PartitionOffsets[] =>
  [0, 1, 2].map((partition) => ({
    partition,
    committed: String(committed),
    end: String(end),
    start: '0',
    lag: end - committed,
  }));

beforeEach(() => {
  mockState.polls = 0;
  mockState.workerFailure = undefined;
  mockState.stopped = 0;
  mockState.missing = [];
});
afterEach(() => jest.restoreAllMocks());

describe('cli > rebuild', () => {
  it('finishes on a busy topic once the group reaches the end offsets sampled at start', async () => {
    // Every poll the topic has grown by 50 a partition and the group has reached the previous end: lag is never 0.
    mockState.offsets = (poll) => partitions(50 * poll, 50 * (poll - 1));
    const { code, out, err } = await runFerry('rebuild', '--mapping', 'things', '--table', 'shadow', '--json');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(out)).toMatchObject({
      shadow: 'shadow',
      caughtUp: true,
      reason: 'reached the end offsets sampled at start',
    });
    expect(mockState.stopped).toBe(1);
  });

  it('fails with the cause, and stops the worker, when its consumer crashes for good', async () => {
    mockState.offsets = () => partitions(100, 0);
    mockState.workerFailure = new Error('the consumer of p.db.things (group g) crashed and will not restart: boom');
    const { code, err } = await runFerry('rebuild', '--mapping', 'things', '--table', 'shadow', '--json');
    expect(code).toBe(1);
    expect(err).toMatch(/rebuild of shadow failed: the consumer of p\.db\.things .*crashed .*shadow is incomplete/);
    expect(mockState.stopped).toBe(1);
  });

  it('refuses (exit 3) a topic whose history is incomplete, saying what is missing and the two ways on', async () => {
    mockState.offsets = () => partitions(100, 100);
    mockState.missing = ['partition 1 starts at offset 40 (its first record is from 2026-11-01T00:00:00.000Z)'];
    const refused = await runFerry('rebuild', '--mapping', 'things', '--table', 'shadow');
    expect(refused.code).toBe(3);
    expect(refused.err).toBe(
      'ferry: the history in p.db.things is incomplete: partition 1 starts at offset 40 (its first record is from 2026-11-01T00:00:00.000Z); a rebuild from it would lack those rows. Pass --snapshot to have Debezium re-read db.things first (complete), or --accept-partial to rebuild from what is there\n',
    );
    expect(mockState.polls).toBe(0);

    const partial = await runFerry('rebuild', '--mapping', 'things', '--table', 'shadow', '--accept-partial', '--json');
    expect([partial.code, partial.err]).toEqual([0, '']);
    expect(JSON.parse(partial.out)).toMatchObject({ complete: false, missing: mockState.missing, snapshot: null });
  });

  it('counts a rebuild from a time as partial: the shadow table starts empty', async () => {
    mockState.offsets = () => partitions(100, 100);
    const refused = await runFerry('rebuild', '--mapping', 'things', '--from', '2026-11-01T00:00:00Z');
    expect(refused.code).toBe(3);
    expect(refused.err).toContain('a rebuild from 2026-11-01T00:00:00Z replays only the changes from there on');
  });

  it('takes --snapshot or --accept-partial, not both', async () => {
    const { code, err } = await runFerry('rebuild', '--mapping', 'things', '--snapshot', '--accept-partial');
    expect(code).toBe(2);
    expect(err).toMatch(/choose one/);
  });

  it('refuses an allowance that is not a whole number', async () => {
    const { code, err } = await runFerry('rebuild', '--mapping', 'things', '--within-messages', 'lots');
    expect(code).toBe(2);
    expect(err).toMatch(/--within-messages "lots" is not a whole number/);
  });
});

describe('source > kafka > catch up', () => {
  const rule = { targets: new Map([0, 1, 2].map((p) => [p, 100n])), withinMessages: 0, withinSeconds: 0 };

  it('is caught up at the sampled ends, however far the topic has grown since', () => {
    expect(catchUp(partitions(900, 100), rule, () => undefined)).toEqual({
      remaining: 0,
      reason: 'reached the end offsets sampled at start',
    });
    expect(catchUp(partitions(900, 99), rule, () => undefined)).toEqual({ remaining: 3 });
  });

  it('allows n messages short of the sampled ends', () => {
    expect(catchUp(partitions(900, 90), { ...rule, withinMessages: 30 }, () => undefined).reason).toBe(
      'within the message allowance',
    );
    expect(catchUp(partitions(900, 89), { ...rule, withinMessages: 30 }, () => undefined).reason).toBeUndefined();
  });

  it('allows partitions short of them whose newest written change is at most s seconds old', () => {
    const now = 1_000_000;
    const withinSeconds = { ...rule, withinSeconds: 10 };
    expect(catchUp(partitions(900, 50), withinSeconds, () => now - 9_000, now).reason).toBe(
      'within the time allowance',
    );
    expect(catchUp(partitions(900, 50), withinSeconds, (p) => (p === 2 ? now - 11_000 : now), now).reason).toBe(
      undefined,
    );
    expect(catchUp(partitions(900, 50), withinSeconds, () => undefined, now).reason).toBeUndefined();
  });
});
