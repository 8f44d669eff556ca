import type { Admin } from 'kafkajs';
import { FerryEvents } from '../../src/core/events';
import { createLogger } from '../../src/observability/logger';
import { CaptureWatch } from '../../src/source/debezium/capture-watch';

const TOPIC = '__debezium-heartbeat.shop';

/** An admin whose heartbeat topic ends where the test says (undefined: no such topic). */
function fakeAdmin(state: { high?: string }) {
  return () =>
    ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      listTopics: async () => (state.high === undefined ? ['other'] : ['other', TOPIC]),
      fetchTopicOffsets: async () => [{ partition: 0, offset: state.high, high: state.high, low: '0' }],
    }) as unknown as Admin;
}

describe('source > debezium > capture watch', () => {
  const logger = createLogger('silent', 2);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Polls: a busy machine may run the watch's timers late, never early. */
  const until = async (what: string, ok: () => boolean) => {
    for (const deadline = Date.now() + 5000; !ok(); await sleep(5))
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  };
  let watch: CaptureWatch | undefined;

  afterEach(async () => {
    await watch?.close();
    jest.restoreAllMocks();
  });

  it('says when the heartbeat topic grew; after quietMs without growth it logs capture stopped, once, and its return', async () => {
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    const events = new FerryEvents();
    const seen: number[] = [];
    events.on('capture.heartbeat', ({ seenAtMs }) => seen.push(seenAtMs));
    const state = { high: '5' };
    watch = new CaptureWatch(fakeAdmin(state), { topic: TOPIC, pollMs: 5, quietMs: 80 }, logger, events);
    const started = Date.now();
    watch.start();
    await sleep(30);
    // The start counts as the last sighting until a heartbeat is seen.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeLessThanOrEqual(started + 1);

    state.high = '6';
    await until('the growth seen', () => seen.length === 2);
    expect(seen[1]).toBeGreaterThan(started + 20);
    expect(error).not.toHaveBeenCalled();

    await until('capture stopped said', () => error.mock.calls.length > 0);
    await sleep(30);
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]?.[1])).toMatch(/no heartbeat for \d+ s: capture has probably stopped/);
    expect(seen).toHaveLength(2);

    state.high = '7';
    await until('the return seen', () => seen.length === 3);
    expect(info).toHaveBeenCalledWith({ topic: TOPIC }, 'the Debezium connector writes heartbeats again');
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('without the heartbeat topic says so once, and claims nothing about capture', async () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    watch = new CaptureWatch(fakeAdmin({}), { topic: TOPIC, pollMs: 5, quietMs: 20 }, logger, new FerryEvents());
    watch.start();
    await until('the missing topic said', () => warn.mock.calls.length > 0);
    await sleep(60);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[1])).toMatch(/heartbeat topic __debezium-heartbeat\.shop does not exist/);
    expect(error).not.toHaveBeenCalled();
  });

  it('stops reading once closed', async () => {
    const reads = { count: 0 };
    const admin = fakeAdmin({ high: '1' });
    watch = new CaptureWatch(
      () => {
        const a = admin();
        const list = a.listTopics.bind(a);
        a.listTopics = () => (reads.count++, list());
        return a;
      },
      { topic: TOPIC, pollMs: 5 },
      logger,
      new FerryEvents(),
    );
    watch.start();
    await until('a read', () => reads.count > 0);
    await watch.close();
    const after = reads.count;
    await sleep(40);
    expect(after).toBeGreaterThan(0);
    expect(reads.count).toBe(after);
  });
});
