import {
  type PartitionHistory,
  type TopicPolicy,
  describeDuration,
  describePolicy,
  judgeHistory,
} from '../../src/source/kafka/history';

const compacted: TopicPolicy = {
  cleanupPolicy: 'compact',
  retentionMs: '604800000',
  retentionBytes: '-1',
  minCompactionLagMs: '604800000',
  deleteRetentionMs: '604800000',
};
const byAge: TopicPolicy = {
  ...compacted,
  cleanupPolicy: 'delete',
  minCompactionLagMs: '0',
  deleteRetentionMs: '86400000',
};
const at = (
  offset: string,
  kind: NonNullable<PartitionHistory['first']>['kind'],
  time = '2026-11-01T00:00:00.000Z',
) => ({
  offset,
  time,
  kind,
});
const judge = (partitions: PartitionHistory[], policy = compacted) =>
  judgeHistory('p.db.t', 'db.t', policy, partitions);

describe('source > kafka > history', () => {
  it('is complete when every partition starts at 0 and one begins with the initial snapshot', () => {
    const history = judge([
      { partition: 0, start: '0', end: '10', first: at('0', 'initial snapshot read') },
      { partition: 1, start: '0', end: '0' },
      { partition: 2, start: '0', end: '4', first: at('0', 'change') },
    ]);
    expect(history).toMatchObject({ complete: true, missing: [] });
  });

  it('is complete on a compacted topic whose first snapshot reads sit past offset 0 (older records of the same rows compacted)', () => {
    expect(judge([{ partition: 0, start: '0', end: '90', first: at('57', 'initial snapshot read') }]).complete).toBe(
      true,
    );
  });

  it('names every partition that lost records to retention, with its first offset and time', () => {
    const history = judge(
      [
        { partition: 0, start: '120', end: '130', first: at('120', 'change', '2026-11-15T10:00:00.000Z') },
        { partition: 1, start: '0', end: '8', first: at('0', 'initial snapshot read') },
        { partition: 2, start: '7', end: '7' },
      ],
      byAge,
    );
    expect(history.complete).toBe(false);
    expect(history.missing).toEqual([
      'partition 0 starts at offset 120 (its first record is from 2026-11-15T10:00:00.000Z)',
      'partition 2 starts at offset 7 (it is empty now)',
    ]);
  });

  it('says so when the topic does not begin with a snapshot: rows older than its first change are not in it', () => {
    const history = judge([
      { partition: 0, start: '0', end: '3', first: at('0', 'change', '2026-11-02T00:00:00.000Z') },
      { partition: 1, start: '0', end: '3', first: at('0', 'incremental snapshot read', '2026-11-01T00:00:00.000Z') },
    ]);
    expect(history.complete).toBe(false);
    expect(history.missing[0]).toMatch(
      /^no partition begins with a read of the connector's initial snapshot \(its first records are changes from 2026-11-01T00:00:00.000Z on\)/,
    );
    expect(judge([{ partition: 0, start: '0', end: '0' }]).missing).toEqual(['p.db.t holds no change of db.t']);
  });

  it('is incomplete after a schema change that may have changed rows, until a snapshot of the table completes after it', () => {
    const whole = [{ partition: 0, start: '0', end: '10', first: at('0', 'initial snapshot read') }];
    const drift = {
      version: 'v1:x',
      at: '2026-11-20T08:00:00.000Z',
      class: 'existing rows may differ' as const,
      reasons: ['b was added with default 7'],
    };
    const judged = (scansCompletedMs: number[]) =>
      judgeHistory('p.db.t', 'db.t', compacted, whole, { drift, scansCompletedMs });
    expect(judged([]).missing).toEqual([
      'the source schema of db.t changed at 2026-11-20T08:00:00.000Z (b was added with default 7): rows not changed since are in the topic as they were before, and no snapshot of the table has completed since',
    ]);
    expect(judged([Date.parse('2026-11-19T00:00:00Z')]).complete).toBe(false);
    expect(judged([Date.parse('2026-11-19T00:00:00Z'), Date.parse('2026-11-20T08:05:00Z')]).complete).toBe(true);
  });

  it('says what each policy keeps', () => {
    expect(describePolicy(compacted)).toBe(
      'cleanup.policy=compact: the newest change of every row is kept; delete events stay 7 days before compaction may drop them, tombstones 7 days after',
    );
    expect(describePolicy(byAge)).toBe('cleanup.policy=delete: records older than 7 days are deleted');
    expect(describePolicy({ ...byAge, retentionMs: '-1' })).toBe(
      'cleanup.policy=delete: nothing is deleted by age or size',
    );
    expect(describeDuration('3600000')).toBe('1 hour');
    expect(describeDuration('1500')).toBe('1500 ms');
  });
});
