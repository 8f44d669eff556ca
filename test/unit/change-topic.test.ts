import { createLogger } from '../../src/observability/logger';
import { requireChangeTopic, waitForChangeTopic } from '../../src/source/kafka/change-topic';

describe('source > kafka > waiting for the change topic', () => {
  const logger = createLogger('silent', 2);
  const warnings = () => jest.spyOn(logger, 'warn').mockImplementation(() => undefined);

  afterEach(() => jest.restoreAllMocks());

  it('reads the topic list until the topic is there, saying once per period what it waits for', async () => {
    const warn = warnings();
    let reads = 0;
    const admin = { listTopics: async () => (++reads < 4 ? ['other'] : ['other', 'p.db.t']) };
    const ready = await waitForChangeTopic(
      admin,
      { topic: 'p.db.t', sourceTable: 'db.t', pollMs: 1, logEveryMs: 60_000 },
      logger,
    );
    expect(ready).toBe(true);
    expect(reads).toBe(4);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[1])).toMatch(/p\.db\.t does not exist yet.*first change of db\.t/);
  });

  it('does not log when the topic exists', async () => {
    const warn = warnings();
    const ready = await waitForChangeTopic(
      { listTopics: async () => ['p.db.t'] },
      { topic: 'p.db.t', sourceTable: 'db.t' },
      logger,
    );
    expect(ready).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('ends at once, false, when stopped while waiting', async () => {
    warnings();
    const stopping = new AbortController();
    const waiting = waitForChangeTopic(
      { listTopics: async () => [] },
      { topic: 'p.db.t', sourceTable: 'db.t', pollMs: 3_600_000, signal: stopping.signal },
      logger,
    );
    setTimeout(() => stopping.abort(), 10);
    await expect(waiting).resolves.toBe(false);
  });

  it('refuses a command on a missing change topic, naming it, the table and what to check', async () => {
    await expect(requireChangeTopic({ listTopics: async () => ['p.db.t'] }, 'p.db.t', 'db.t')).resolves.toBeUndefined();
    await expect(requireChangeTopic({ listTopics: async () => ['other'] }, 'p.db.t', 'db.t')).rejects.toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        message: expect.stringMatching(
          /^the change topic p\.db\.t does not exist yet: .*captures db\.t \(ferry connector\), and FERRY_KAFKA_TOPIC_PREFIX$/,
        ),
      }),
    );
  });
});
