/**
 * A consumer of ferry's applied-changes log (FERRY_APPLIED_LOG_ENABLED=true): evicts each DynamoDB
 * item from a cache once ferry has written it. Run it beside a worker:
 *
 *   npx tsx examples/cache-invalidation.ts <prefix>.applied.<mapping> [brokers]
 *
 * Each message holds the records of one chunk whose items hash to its partition, in the order
 * they were applied; a record is in the log only once its write is durable, so a reader that
 * evicts and then reads DynamoDB sees the new item (or none). Eviction is idempotent, so a
 * redelivered message, or two rows' writes of one item arriving out of order, do no harm; a
 * consumer that copies values instead keeps the highest `version` per item.
 */
import { Kafka } from 'kafkajs';
import type { AppliedMessage, KeyJson } from '../src/pipeline/applied-log';
import { stopIdleRequestQueuePolling } from '../src/source/kafka/kafkajs-request-queue';

export interface ItemChange {
  table: string;
  key: KeyJson;
  operation: 'put' | 'delete';
  version: string;
}

/** The items a message says were written (put or deleted), in order; the other outcomes left items as they were. */
export function itemChanges(message: AppliedMessage): ItemChange[] {
  const changes: ItemChange[] = [];
  for (const { key, operation, outcome, version } of message.records)
    if (outcome === 'written' && key !== null && operation !== null && version !== null)
      changes.push({ table: message.table, key, operation, version });
  return changes;
}

async function main(topic: string | undefined, brokers = '127.0.0.1:9092'): Promise<void> {
  if (!topic) throw new Error('usage: cache-invalidation.ts <prefix>.applied.<mapping> [brokers]');
  // kafkajs 2.2.4 polls every idle connection each millisecond (tulios/kafkajs#1751); ferry's fix.
  stopIdleRequestQueuePolling();
  const kafka = new Kafka({
    clientId: 'cache-invalidation',
    brokers: brokers.split(','),
  });
  const consumer = kafka.consumer({ groupId: `cache-invalidation.${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  // The cache here is a stand-in: replace `evict` with your cache client's delete.
  const evict = async (change: ItemChange) =>
    console.log(`evict ${change.table} ${JSON.stringify(change.key)} (${change.operation} ${change.version})`);
  await consumer.run({
    eachMessage: async ({ message }) => {
      for (const change of itemChanges(JSON.parse(String(message.value)) as AppliedMessage)) await evict(change);
    },
  });
  const stop = () => void consumer.disconnect().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module)
  void main(process.argv[2], process.argv[3]).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
