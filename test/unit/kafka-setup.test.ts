/** Kafka's refusals read as the setting to fix, a closed connection and a moving leader tried again first. Needs nothing running. */
import { ConfigError } from '../../src/core/errors';
import { connectOrExplain, whileLeadershipMoves } from '../../src/source/kafka/kafka-client';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const closed = () =>
  Object.assign(named('KafkaJSConnectionClosedError', 'Closed connection'), { broker: '127.0.0.1:9094' });

function failing(...errors: Array<Error | undefined>) {
  let calls = 0;
  const connect = async () => {
    const err = errors[calls++];
    if (err) throw err;
  };
  return { connect, calls: () => calls };
}

describe('source > kafka > connect', () => {
  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  beforeEach(() => (waits.length = 0));

  it('tries a connection closed in the handshake again, and says nothing when it then connects', async () => {
    const client = failing(closed(), closed());
    await connectOrExplain(client.connect, sleep);
    expect(client.calls()).toBe(3);
    expect(waits).toHaveLength(2);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2_000);
  });

  it('reads a closed connection that lasts as a setting, after three attempts', async () => {
    const client = failing(closed(), closed(), closed());
    const error = await connectOrExplain(client.connect, sleep).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^Kafka at 127\.0\.0\.1:9094 closed the connection before answering.*FERRY_KAFKA_SSL=true/,
    );
    expect(client.calls()).toBe(3);
  });

  it('reads a refused login at once, and passes on what is not a setting', async () => {
    const refused = failing(named('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed'));
    const error = await connectOrExplain(refused.connect, sleep).catch((e: unknown) => e);
    expect([error instanceof ConfigError, refused.calls(), waits]).toEqual([true, 1, []]);
    const other = new Error('connect ECONNREFUSED 127.0.0.1:9092');
    expect(await connectOrExplain(failing(other).connect, sleep).catch((e: unknown) => e)).toBe(other);
  });
});

describe('source > kafka > offsets while leadership moves', () => {
  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  beforeEach(() => (waits.length = 0));
  // kafkajs's protocol error, as fetchTopicOffsets rejects with it right after partitions are added.
  const notLeader = () =>
    Object.assign(named('KafkaJSProtocolError', 'This server is not the leader for that topic-partition'), {
      type: 'NOT_LEADER_FOR_PARTITION',
    });

  it('reads again until the partition has its leader', async () => {
    const attempts: number[] = [];
    const offsets = await whileLeadershipMoves(async (attempt) => {
      attempts.push(attempt);
      if (attempt < 3) throw notLeader();
      return [{ partition: 0, offset: '7' }];
    }, sleep);
    expect(offsets).toEqual([{ partition: 0, offset: '7' }]);
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toHaveLength(2);
  });

  it('gives up after six attempts, naming what Kafka said', async () => {
    const error = await whileLeadershipMoves(async () => {
      throw notLeader();
    }, sleep).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/gave up after 6 attempts .*not the leader for that topic-partition/);
    expect(Math.max(...waits)).toBeLessThanOrEqual(4_000);
  });

  it('passes any other failure on at once', async () => {
    const other = Object.assign(named('KafkaJSProtocolError', 'Not authorized to access topics'), {
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    expect(await whileLeadershipMoves(() => Promise.reject(other), sleep).catch((e: unknown) => e)).toBe(other);
    expect(waits).toEqual([]);
  });
});
