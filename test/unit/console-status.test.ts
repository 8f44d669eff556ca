import { FerryEvents } from '../../src/core/events';
import { blockedPartitions } from '../../src/observability/http-server';

describe('observability > http-server > /status', () => {
  it('lists a partition while it is blocked, with its error and item key, and drops it once it flows', () => {
    const events = new FerryEvents();
    const blocked = blockedPartitions(events);
    const base = { mapping: 'm', topic: 't' };
    events.emit('partition.blocked', {
      ...base,
      partition: 3,
      sinceMs: 0,
      error: new Error('throttled'),
      key: { pk: 1n },
    });
    events.emit('partition.blocked', { ...base, partition: 1, sinceMs: 1000, error: 'down' });
    expect(blocked()).toEqual([
      { topic: 't', partition: 1, since: '1970-01-01T00:00:01.000Z', error: 'down' },
      { topic: 't', partition: 3, since: '1970-01-01T00:00:00.000Z', error: 'Error: throttled', key: { pk: 1n } },
    ]);
    events.emit('partition.unblocked', { ...base, partition: 3, sinceMs: 0 });
    expect(blocked().map((b) => b.partition)).toEqual([1]);
  });
});
