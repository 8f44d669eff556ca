import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { type Admin, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { type KafkaSettings, envName } from '../../config/config';
import { ConfigError, FerryError, describe } from '../../core/errors';
import { type RetryOptions, createRetry } from '../../core/retry';
import type { Logger } from '../../observability/logger';
import { kafkaSetupProblem, leadershipMoving, mayBeTransient, missingTopic } from './kafka-errors';
import { stopIdleRequestQueuePolling } from './kafkajs-request-queue';
import { type MskTokenSigner, mskIamMechanism, mskIamTokens } from './msk-iam';

stopIdleRequestQueuePolling();

/** One kafkajs client from validated settings, logging through ferry's logger. */
export function createKafka(settings: KafkaSettings, logger: Logger): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: tlsOptions(settings),
    sasl: saslOptions(settings),
    connectionTimeout: settings.connectionTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        logger[kafkaLogMethod(level, message)]({ kafka: extra }, `kafka: ${message}`);
      },
  };
  return new SetupCheckedKafka(config);
}

/**
 * The level a kafkajs log line is logged at. kafkajs logs every error answer as an error before
 * its caller sees it, and creating a topic that exists answers TOPIC_ALREADY_EXISTS, which
 * createTopics then treats as done (`false`): that line is not an error; a creation that did
 * fail throws to ferry's caller, which reports it.
 */
export function kafkaLogMethod(level: logLevel, message: string): 'error' | 'warn' | 'debug' {
  if (message.startsWith('Response CreateTopics')) return 'debug';
  return level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
}

/**
 * kafkajs whose clients' connect() turns a refused login or a failed TLS handshake into a
 * ConfigError naming the setting to fix, and whose admins read a topic's offsets again while a
 * partition's leadership moves: every command and the worker meet both here, once.
 */
class SetupCheckedKafka extends Kafka {
  /**
   * A ferry producer never has the broker create a topic either: ferry creates each topic it
   * writes, with its settings, before the first write (a broker's defaults are not those, and
   * many clusters turn auto-creation off).
   */
  override producer(config?: Parameters<Kafka['producer']>[0]) {
    return this.checked(super.producer({ ...config, allowAutoTopicCreation: false }));
  }

  /** A ferry consumer never creates the topic it reads: Debezium does, with its partitions (see change-topic). */
  override consumer(config: Parameters<Kafka['consumer']>[0]) {
    return this.checked(super.consumer({ ...config, allowAutoTopicCreation: false }));
  }

  override admin(...args: Parameters<Kafka['admin']>) {
    const admin = this.checked(super.admin(...args));
    const { fetchTopicOffsets, fetchTopicOffsetsByTimestamp } = admin;
    // kafkajs's admin keeps the leaders it first read: a retry asks on a newly connected one.
    const anew = async <T>(read: (fresh: Admin) => Promise<T>) => {
      const fresh = this.checked(super.admin(...args));
      await fresh.connect();
      try {
        return await read(fresh);
      } finally {
        await fresh.disconnect();
      }
    };
    admin.fetchTopicOffsets = (topic) =>
      namingMissingTopic(
        topic,
        whileLeadershipMoves((attempt) =>
          attempt === 1 ? fetchTopicOffsets(topic) : anew((fresh) => fresh.fetchTopicOffsets(topic)),
        ),
      );
    admin.fetchTopicOffsetsByTimestamp = (topic, at) =>
      namingMissingTopic(
        topic,
        whileLeadershipMoves((attempt) =>
          attempt === 1
            ? fetchTopicOffsetsByTimestamp(topic, at)
            : anew((fresh) => fresh.fetchTopicOffsetsByTimestamp(topic, at)),
        ),
      );
    return admin;
  }

  private checked<C extends { connect(): Promise<void> }>(client: C): C {
    const connect = client.connect.bind(client);
    client.connect = () => connectOrExplain(connect);
    return client;
  }
}

/** The topic does not exist: kafkajs's answer ("This server does not host this topic-partition") names none. */
export class MissingTopicError extends ConfigError {}

async function namingMissingTopic<T>(topic: string, read: Promise<T>): Promise<T> {
  return read.catch((err: unknown) => {
    throw missingTopic(err) ? new MissingTopicError(`topic ${topic} does not exist`, { cause: err }) : err;
  });
}

/**
 * Runs `connect`; a refused login or a failed handshake becomes a ConfigError naming the setting.
 * A connection closed in the handshake is tried again first, three attempts in all, up to 2 s
 * apart (core/retry's backoff): a broker restarting closes it too, and that needs no advice.
 */
export async function connectOrExplain(connect: () => Promise<void>, sleep?: RetryOptions['sleep']): Promise<void> {
  const retry = createRetry({ maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 2_000, sleep });
  try {
    await retry(() =>
      connect().catch((err: unknown) => {
        throw mayBeTransient(err)
          ? new FerryError('Kafka closed the connection in the handshake', { retriable: true, cause: err })
          : err;
      }),
    );
  } catch (err) {
    const problem = kafkaSetupProblem(err);
    throw problem ? new ConfigError(problem, { cause: err }) : err;
  }
}

/**
 * Runs `read`, again while a partition has no leader or another broker leads it (partitions just
 * added, a broker restarting): six attempts, up to 4 s apart. Any other failure passes at once.
 */
export function whileLeadershipMoves<T>(
  read: (attempt: number) => Promise<T>,
  sleep?: RetryOptions['sleep'],
): Promise<T> {
  const retry = createRetry({ maxAttempts: 6, initialDelayMs: 250, maxDelayMs: 4_000, sleep });
  return retry((attempt) =>
    read(attempt).catch((err: unknown) => {
      throw leadershipMoving(err)
        ? new FerryError(`a partition's leadership is moving (${describe(err)})`, { retriable: true, cause: err })
        : err;
    }),
  );
}

/** TLS for the brokers: off, Node's trusted CAs, or a CA file; with a client certificate for mTLS. */
export function tlsOptions(settings: KafkaSettings): boolean | ConnectionOptions {
  const { sslCa, sslCert, sslKey } = settings;
  if (!sslCa && !sslCert && !sslKey) return settings.ssl;
  if (Boolean(sslCert) !== Boolean(sslKey))
    throw new ConfigError(
      `${envName('kafka.sslCert')} and ${envName('kafka.sslKey')} go together: a client certificate needs its key`,
    );
  const read = (path: string | undefined, setting: string) => {
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${envName(setting)}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  };
  const ca = read(sslCa, 'kafka.sslCa');
  return {
    ...(ca ? { ca: [ca] } : {}),
    cert: read(sslCert, 'kafka.sslCert'),
    key: read(sslKey, 'kafka.sslKey'),
  };
}

/** SASL for the brokers: a user and password, or MSK IAM's signed tokens over OAUTHBEARER. */
export function saslOptions(settings: KafkaSettings, signer?: MskTokenSigner): KafkaConfig['sasl'] {
  const { sasl } = settings;
  if (!sasl) return undefined;
  if (sasl.mechanism === 'aws-msk-iam') {
    // loadConfig fills it from the DynamoDB region: a token signed for a guessed region would be refused.
    if (!sasl.region) throw new ConfigError(`${envName('kafka.sasl.region')} is not set`);
    return mskIamMechanism(mskIamTokens(sasl.region, { sign: signer }));
  }
  return sasl as KafkaConfig['sasl'];
}
