import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { KafkaSettings } from '../../config/config';
import type { Logger } from '../../observability/logger';
import { stopIdleRequestQueuePolling } from './kafkajs-request-queue';

stopIdleRequestQueuePolling();

/** One kafkajs client from validated settings, logging through ferry's logger. */
export function createKafka(settings: KafkaSettings, logger: Logger): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    sasl: settings.sasl as KafkaConfig['sasl'],
    connectionTimeout: settings.connectionTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        const method = level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
        logger[method]({ kafka: extra }, `kafka: ${message}`);
      },
  };
  return new Kafka(config);
}
