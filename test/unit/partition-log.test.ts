import { FerryEvents } from '../../src/core/events';
import type { Logger } from '../../src/observability/logger';
import { logPartitionHealth } from '../../src/observability/partition-log';

describe('observability > partition log', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('warns when a partition is first blocked, every 30 s while it stays so, and once when it clears', () => {
    const lines: Array<[string, Record<string, unknown>, string]> = [];
    const record = (level: string) => (fields: Record<string, unknown>, msg: string) =>
      lines.push([level, fields, msg]);
    const logger = { warn: record('warn'), info: record('info') } as unknown as Logger;
    const events = new FerryEvents();
    const stop = logPartitionHealth(events, logger);
    const blocked = { mapping: 'm', topic: 't', partition: 2, sinceMs: Date.now(), key: { pk: 'A' } };
    events.emit('partition.blocked', { ...blocked, error: new Error('throttled') });
    events.emit('partition.blocked', { ...blocked, error: new Error('still throttled'), key: { pk: 'B' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual([
      'warn',
      expect.objectContaining({ topic: 't', partition: 2, key: { pk: 'A' } }),
      expect.stringContaining('partition blocked'),
    ]);
    jest.advanceTimersByTime(30_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.[1]).toMatchObject({ key: { pk: 'B' }, error: 'Error: still throttled', blockedSeconds: 30 });
    jest.advanceTimersByTime(30_000);
    expect(lines).toHaveLength(3);
    events.emit('partition.unblocked', { mapping: 'm', topic: 't', partition: 2, sinceMs: blocked.sinceMs });
    jest.advanceTimersByTime(60_000);
    expect(lines.map(([level, , msg]) => `${level} ${msg.split(':')[0]}`)).toEqual([
      'warn partition blocked',
      'warn partition blocked',
      'warn partition blocked',
      'info partition unblocked',
    ]);
    stop();
  });

  it('logs the first dead letter of each kind at error level, later ones at warn', () => {
    const levels: string[] = [];
    const logger = {
      warn: () => levels.push('warn'),
      error: () => levels.push('error'),
    } as unknown as Logger;
    const events = new FerryEvents();
    const stop = logPartitionHealth(events, logger);
    const letter = (error: string) =>
      events.emit('dlq.sent', { mapping: 'm', topic: 't', partition: 0, offset: '1', error, message: error });
    letter('DecodeError');
    letter('DecodeError');
    letter('ItemError');
    expect(levels).toEqual(['error', 'warn', 'error']);
    stop();
  });
});
