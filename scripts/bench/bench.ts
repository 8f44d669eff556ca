/**
 * ferry's benchmark: synthetic Debezium events, cloned from a real message of a local connector,
 * through ferry and through its baselines, each scenario side by side with its baseline in one run;
 * prints one table.
 *
 *   npm run bench [-- --only pipeline-json,latency-5ms,... --json <file> --events 100000]
 *
 * Scenarios: write-cpu, pipeline-json, pipeline-avro, latency-5ms, rebuild, peer-redpanda-connect,
 * drain-1m, freshness-500, write-kinds. Needs the local stack (scripts/stack.sh up) with both
 * sample connectors registered (scripts/connector.sh register json, and avro); write-cpu needs
 * nothing. --json writes { "scenarios": { <name>: { ...figures } } }.
 */
import { parse as parseYaml } from 'yaml';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Consumer } from '@platformatic/kafka';
import {
  type AttributeValue,
  DeleteItemCommand,
  DeleteTableCommand,
  PutItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { type Message, Partitioners } from 'kafkajs';
import type { Row } from '../../src/core/change-event';
import type { Mapping } from '../../src/mapping/define-mapping';
import type { ChangeEvent, Operation } from '../../src/core/change-event';
import { mapConcurrent } from '../../src/core/concurrency';
import { FerryEvents } from '../../src/core/events';
import { formatVersion } from '../../src/core/version';
import type { WriteIntent } from '../../src/core/write-intent';
import type { Sink, SourceMessage } from '../../src/core/batch';
import { AppliedLog } from '../../src/pipeline/applied-log';
import { BatchProcessor } from '../../src/pipeline/batch-processor';
import { createDynamoDbClient } from '../../src/sink/dynamodb/client';
import { DynamoDbWriter, versionGuard, writerOptions } from '../../src/sink/dynamodb/dynamodb-writer';
import { BatchRebuildWriter } from '../../src/sink/dynamodb/batch-writer';
import { type DynamoDbBatches, LeanDynamoDb, sdkBatches } from '../../src/sink/dynamodb/lean-client';
import { WrittenKeys } from '../../src/sink/dynamodb/written-keys';
import { ensureDeletesTable } from '../../src/sink/dynamodb/deletes';
import { ensureTable } from '../../src/sink/dynamodb/table-admin';
import { MemorySink } from '../../src/sink/memory/memory-sink';
import { AvroEnvelopeDecoder } from '../../src/source/debezium/avro-decoder';
import type { EnvelopeDecoder } from '../../src/source/debezium/envelope';
import { JsonEnvelopeDecoder, endOfJsonValue } from '../../src/source/debezium/json-decoder';
import type { DrainArgs, DrainResult } from './drain';
import { writeCpu } from './write-cpu';
import {
  BROKERS,
  DYNAMODB_ENDPOINT,
  type Drained,
  type FerryRunOptions,
  REGISTRY_URL,
  benchConfig,
  benchKafka,
  benchMapping,
  startFerry,
} from './ferry-run';
import { createProxy } from '../../test/support/toxiproxy';
import {
  ChangeGenerator,
  type Format,
  PARTITIONS,
  SOURCE_TOPICS,
  type Template,
  captureTemplate,
  connectProducer,
  createTopic,
  deleteGroups,
  deleteTopic,
  produceAtRate,
  produceBacklog,
  sleep,
  uniqueId,
} from './workload';

const ROOT = join(__dirname, '..', '..');
/** The worker's Node options as the Helm chart sets them by default (templates/deployment.yaml), for the drain's child. */
const DEPLOYED_NODE_OPTIONS = (() => {
  const { worker } = parseYaml(readFileSync(join(ROOT, 'deploy', 'helm', 'ferry', 'values.yaml'), 'utf8'));
  const limitMi = Number(/^(\d+)Mi$/.exec(worker.resources.limits.memory)?.[1]);
  return `--max-old-space-size=${Math.floor((limitMi * worker.heapPercent) / 100)} --max-semi-space-size=16`;
})();
/** Toxiproxy's listener in front of DynamoDB Local for latency-5ms. */
const LATENCY_PROXY_PORT = 8010;
const NAMES = [
  'write-cpu',
  'pipeline-json',
  'pipeline-avro',
  'latency-5ms',
  'rebuild',
  'peer-redpanda-connect',
  'drain-1m',
  'freshness-500',
  'write-kinds',
  'applied-log',
] as const;
type Name = (typeof NAMES)[number];

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'naive-events': { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '30' },
    backlog: { type: 'string', default: '1000000' },
    'write-cost-items': { type: 'string', default: '5000' },
    /** Scenarios to run (all unless given). */
    only: { type: 'string' },
    /** Where to write every scenario's figures as JSON. */
    json: { type: 'string' },
    /** Profile the drain child (drain-1m) with node --cpu-prof into this directory. */
    'cpu-prof': { type: 'string' },
  },
});
const N = Number(flags.events);
const NAIVE_N = Number(flags['naive-events']);
const WRITE_COST_N = Number(flags['write-cost-items']);
const SECONDS = Number(flags.seconds);
const BACKLOG = Number(flags.backlog);
const only = (flags.only?.split(',') ?? [...NAMES]) as Name[];
for (const name of only)
  if (!NAMES.includes(name)) throw new Error(`--only: unknown scenario '${name}' (${NAMES.join(', ')})`);
/** Distinct primary keys: about four changes per row, so chunks have something to coalesce. */
const keysFor = (events: number) => Math.max(1, Math.floor(events / 4));

const config = benchConfig();
const kafka = benchKafka(config);
const raw = createDynamoDbClient(config.dynamodb);
// The naive baseline writes as most code does, through lib-dynamodb's document client.
const dynamo = { raw, doc: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }) };
const runId = uniqueId();
const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** CPU seconds a local-stack server has used so far (from its pid file), to show where the time goes. */
function serverCpu(name: 'dynamodb' | 'kafka'): number {
  try {
    return processCpu(Number(readFileSync(join(ROOT, '.stack', name, `${name}.pid`), 'utf8').trim()));
  } catch {
    return NaN;
  }
}

/** The CPU DynamoDB Local and Kafka use from now until the returned function is called. */
function stackCpu() {
  const dynamodbBefore = serverCpu('dynamodb');
  const kafkaBefore = serverCpu('kafka');
  return () => {
    const dynamodb = serverCpu('dynamodb') - dynamodbBefore;
    const kafka = serverCpu('kafka') - kafkaBefore;
    return { dynamodb, kafka, text: `DynamoDB Local ${fmt(dynamodb, 1)} CPU-s, Kafka ${fmt(kafka, 1)} CPU-s` };
  };
}

/**
 * How much of a run DynamoDB Local sat idle (under a quarter of a core, sampled every 100 ms), and
 * how busy this process (ferry's consumer runs in it) was meanwhile: whether DynamoDB Local waited
 * on ferry, from now until the returned function is called.
 */
function dynamoDbWaits() {
  const own = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  let last = { at: performance.now(), dynamodb: serverCpu('dynamodb'), ferry: own() };
  let [totalMs, idleMs, ferryWhileIdle] = [0, 0, 0];
  const timer = setInterval(() => {
    const now = { at: performance.now(), dynamodb: serverCpu('dynamodb'), ferry: own() };
    const ms = now.at - last.at;
    totalMs += ms;
    if ((now.dynamodb - last.dynamodb) / (ms / 1000) < 0.25) {
      idleMs += ms;
      ferryWhileIdle += now.ferry - last.ferry;
    }
    last = now;
  }, 100);
  return () => {
    clearInterval(timer);
    return {
      idleShare: totalMs > 0 ? idleMs / totalMs : 0,
      ferryCoresWhileIdle: idleMs > 0 ? ferryWhileIdle / (idleMs / 1000) : 0,
    };
  };
}

interface Result {
  id: string;
  scenario: string;
  events: number;
  seconds: number;
  rate: number;
  cpuSeconds?: number;
  extra?: string;
  goal?: string;
  check: string;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function workloadNote(gen: ChangeGenerator): string {
  const { c, u, d } = gen.ops;
  return `${fmt(gen.events)} events (c ${fmt(c)} / u ${fmt(u)} / d ${fmt(d)} + ${fmt(d)} tombstones) over ${fmt(gen.live.size)} live of ${fmt(gen.keys)} keys`;
}

/** Every live row has its item with its last email; nothing else is in the table. */
function checkState(gen: ChangeGenerator, items: Record<string, unknown>[]): string {
  const byPk = new Map(items.map((item) => [String(item.pk), item]));
  const wrong = [...gen.live].filter(([id, row]) => byPk.get(`CUSTOMER#${id}`)?.email !== row.email).map(([id]) => id);
  const extra = items.filter((item) => !gen.live.has(Number(String(item.pk).slice('CUSTOMER#'.length))));
  if (wrong.length === 0 && extra.length === 0) return `ok: ${fmt(items.length)} items = expected`;
  const sample = [...wrong, ...extra.map((item) => String(item.pk))].slice(0, 5).join(', ');
  return `MISMATCH: ${wrong.length} wrong or missing, ${extra.length} extra (e.g. ${sample})`;
}

async function scanTable(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: dynamo.doc }, { TableName: table, ConsistentRead: true }))
    items.push(...(page.Items ?? []));
  return items;
}

async function createTable(mapping: Mapping) {
  await ensureTable(dynamo.raw, {
    table: mapping.targetTable,
    partitionKey: mapping.partitionKey,
    sortKey: mapping.sortKey,
  });
  await ensureDeletesTable(dynamo.raw, config.dynamodb.deletesTable, true);
}

/** A fresh topic, group and table for one scenario, removed afterwards whatever happens. */
async function scenario<T>(name: string, fn: (names: { topic: string; groupId: string; table: string }) => Promise<T>) {
  const id = `${runId}-${name}`;
  const names = { topic: `ferry-bench.${id}`, groupId: `ferry-bench.${id}`, table: `ferry-bench-${id}` };
  await createTopic(kafka, names.topic);
  try {
    return await fn(names);
  } finally {
    await deleteTopic(kafka, names.topic);
    await deleteGroups(kafka, [names.groupId]);
    await dynamo.raw.send(new DeleteTableCommand({ TableName: names.table })).catch(() => undefined);
  }
}

async function backlog(
  template: Template,
  topic: string,
  events: number,
  keys = keysFor(events),
): Promise<ChangeGenerator> {
  const gen = new ChangeGenerator(template, keys);
  const producer = await connectProducer(kafka);
  const started = performance.now();
  try {
    await produceBacklog(producer, topic, gen, events);
  } finally {
    await producer.disconnect();
  }
  log(`produced ${fmt(gen.messages)} messages to ${topic} in ${fmt((performance.now() - started) / 1000, 1)} s`);
  return gen;
}

type Figures = Record<string, number | string>;
interface Outcome {
  rows: Result[];
  figures: Figures;
}

const decoderFor = (format: Format): EnvelopeDecoder =>
  format === 'json' ? new JsonEnvelopeDecoder() : new AvroEnvelopeDecoder({ url: REGISTRY_URL });

/**
 * pipeline-json, pipeline-avro: ferry's consumer path over a backlog into memory, against the
 * Kafka client's floor (the same topic through a no-op consumer), in the same run.
 */
async function pipeline(template: Template): Promise<Outcome> {
  return scenario(`p-${template.format}`, async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, N);
    const mapping = await benchMapping(table);
    const kafkajsFloor = await kafkajsAlone(topic, `${groupId}.kafkajs`, gen);
    const platformaticFloor = await platformaticAlone(topic, `${groupId}.platformatic`, gen);
    const memory = new MemorySink();
    const { seconds, cpuSeconds, chunks, writes } = await drainBacklog(
      { topic, groupId, mapping, sink: memory, decoder: decoderFor(template.format) },
      gen,
    );
    log(workloadNote(gen));
    const chunk = Math.round(gen.messages / chunks);
    const alone = await processorAlone(template, chunk, table);
    const perCpu = (r: Result) => Math.round(r.events / (r.cpuSeconds ?? NaN));
    const eventsPerCpuSec = Math.round(gen.events / cpuSeconds);
    const ratio = eventsPerCpuSec / perCpu(kafkajsFloor);
    const rows: Result[] = [
      {
        id: `pipeline-${template.format}`,
        scenario: `ferry pipeline -> in-memory sink, ${template.format.toUpperCase()} (${fmt(template.bytes)}-byte events)`,
        events: gen.events,
        seconds,
        rate: gen.events / seconds,
        cpuSeconds,
        extra: `${fmt(chunk)} msgs/chunk, ${fmt(writes)} writes; ${(ratio * 100).toFixed(0)}% of the kafkajs floor`,
        goal: '>= 80% of the client floor',
        check: `${ratio >= 0.8 ? 'met' : 'MISSED'}; ${checkState(
          gen,
          memory.items(table).map((i) => unmarshall(i)),
        )}`,
      },
      kafkajsFloor,
      platformaticFloor,
      alone,
    ];
    return {
      rows,
      figures: {
        eventsPerCpuSec,
        clientFloorEventsPerCpuSec: perCpu(kafkajsFloor),
        ratio: Number(ratio.toFixed(2)),
        platformaticFloorEventsPerCpuSec: perCpu(platformaticFloor),
        processorAloneEventsPerCpuSec: perCpu(alone),
        // What the goal leaves ferry per event beside the client, and what parsing a value alone costs.
        budgetUsPerEvent: Number((1e6 / (0.8 * perCpu(kafkajsFloor)) - 1e6 / perCpu(kafkajsFloor)).toFixed(1)),
        parseUsPerEvent: Number(alone.parseUsPerEvent.toFixed(1)),
      },
    };
  });
}

/**
 * rebuild: a backlog replayed as `ferry rebuild` writes it (the batch writer, into a table it has
 * just created), against the ceiling of DynamoDB Local here: a loop that only batch-writes as many
 * pre-marshalled items. Twice: the backlog of every change (about four a key), and a backlog of
 * one change a key, as a compacted topic holds once compaction has run.
 */
async function rebuild(template: Template): Promise<Outcome> {
  const every = await rebuildOf(template, 'rb', keysFor(N), 'every change, about 4 a key');
  const compacted = await rebuildOf(template, 'rbc', N * 100, 'compacted: about 1 change a key');
  return {
    rows: [...every.rows, ...compacted.rows],
    figures: {
      ...every.figures,
      compactedItemsPerSec: compacted.figures.itemsPerSec as number,
      compactedCeilingItemsPerSec: compacted.figures.ceilingItemsPerSec as number,
      compactedRatioToCeiling: compacted.figures.ratioToCeiling as number,
      compactedDynamodbLocalIdleShare: compacted.figures.dynamodbLocalIdleShare as number,
      compactedFerryCoresWhileDynamodbLocalIdle: compacted.figures.ferryCoresWhileDynamodbLocalIdle as number,
    },
  };
}

async function rebuildOf(template: Template, name: string, keys: number, what: string): Promise<Outcome> {
  return scenario(name, async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, N, keys);
    const mapping = await benchMapping(table);
    await createTable(mapping);
    const options = writerOptions(config.dynamodb);
    const lean = new LeanDynamoDb(config.dynamodb);
    const conditional = new DynamoDbWriter(lean, options);
    const servers = stackCpu();
    const waits = dynamoDbWaits();
    const { seconds, cpuSeconds, writes } = await drainBacklog(
      // As `ferry rebuild` into the table it has just created.
      {
        topic,
        groupId,
        mapping,
        sink: new BatchRebuildWriter(lean, options, conditional, undefined, new WrittenKeys()),
      },
      gen,
    );
    const during = servers();
    const waited = waits();
    const items = await scanTable(table);
    const check = checkState(gen, items);

    // The ceiling through either client: the higher is the one to reach.
    const ceilingServers = stackCpu();
    const leanCeiling = await batchCeiling(lean, mapping, `${table}-ceiling`, items, writes);
    const ceilingDynamoDb = ceilingServers().dynamodb;
    const sdkCeiling = await batchCeiling(sdkBatches(dynamo.raw), mapping, `${table}-ceiling-sdk`, items, writes);
    const ceilingSeconds = Math.min(leanCeiling, sdkCeiling);
    const itemsPerSec = writes / seconds;
    const ceilingItemsPerSec = writes / ceilingSeconds;
    const ratio = itemsPerSec / ceilingItemsPerSec;
    return {
      figures: {
        itemsPerSec: Math.round(itemsPerSec),
        ceilingItemsPerSec: Math.round(ceilingItemsPerSec),
        ratioToCeiling: Number(ratio.toFixed(2)),
        leanCeilingItemsPerSec: Math.round(writes / leanCeiling),
        // Where the CPU went: ferry, DynamoDB Local and Kafka during the rebuild; DynamoDB Local in the ceiling.
        ferryCpuSeconds: Number(cpuSeconds.toFixed(1)),
        dynamodbLocalCpuSeconds: Number(during.dynamodb.toFixed(1)),
        kafkaCpuSeconds: Number(during.kafka.toFixed(1)),
        dynamodbLocalIdleShare: Number(waited.idleShare.toFixed(2)),
        ferryCoresWhileDynamodbLocalIdle: Number(waited.ferryCoresWhileIdle.toFixed(2)),
        ceilingDynamodbLocalCpuSeconds: Number(ceilingDynamoDb.toFixed(1)),
        sdkCeilingItemsPerSec: Math.round(writes / sdkCeiling),
      },
      rows: [
        {
          id: name === 'rb' ? 'rebuild' : '',
          scenario: `${name === 'rb' ? '' : '  '}rebuild (batch writer) -> DynamoDB Local, ${what}`,
          events: gen.events,
          seconds,
          rate: gen.events / seconds,
          cpuSeconds,
          extra: `${fmt(writes)} items at ${fmt(itemsPerSec)}/s; BatchWriteItem-only ceiling ${fmt(ceilingItemsPerSec)}/s (lean client ${fmt(writes / leanCeiling)}/s, SDK ${fmt(writes / sdkCeiling)}/s): ${(ratio * 100).toFixed(0)}%; ${during.text}, ceiling's DynamoDB Local ${fmt(ceilingDynamoDb, 1)} CPU-s; DynamoDB Local idle ${(waited.idleShare * 100).toFixed(0)}% of the rebuild, ferry at ${fmt(waited.ferryCoresWhileIdle, 2)} cores meanwhile`,
          goal: '>= 80% of the ceiling',
          check: `${ratio >= 0.8 ? 'met' : 'MISSED'}; ${check}`,
        },
      ],
    };
  });
}

/** ferry's consumer path (ChangeConsumer + BatchProcessor) over a whole backlog, stopped once drained. */
async function drainBacklog(
  options: Pick<FerryRunOptions, 'topic' | 'groupId' | 'mapping' | 'sink' | 'decoder' | 'appliedLog'>,
  gen: ChangeGenerator,
): Promise<Drained> {
  const run = await startFerry({ kafka, config, ...options });
  try {
    return await run.drained(gen.messages);
  } finally {
    await run.stop();
  }
}

/**
 * The ceiling of a DynamoDB endpoint here: `count` items cloned from `items`, marshalled
 * beforehand, batch-written 25 a request with 8 requests in flight into a table of their own.
 * Returns the seconds it took.
 */
async function batchCeiling(
  client: DynamoDbBatches,
  mapping: Mapping,
  table: string,
  items: Record<string, unknown>[],
  count: number,
): Promise<number> {
  await ensureTable(dynamo.raw, { table, partitionKey: mapping.partitionKey, sortKey: mapping.sortKey });
  try {
    const sample = items.map((i) => marshall(i, { removeUndefinedValues: true, convertClassInstanceToMap: true }));
    const prepared = Array.from({ length: count }, (_, i) => ({
      ...(sample[i % sample.length] as Record<string, AttributeValue>),
      pk: { S: `CEILING#${i}` },
    }));
    const requests: Array<Array<Record<string, AttributeValue>>> = [];
    for (let i = 0; i < prepared.length; i += 25) requests.push(prepared.slice(i, i + 25));
    const started = performance.now();
    await mapConcurrent(requests, 8, async (batch) => {
      let pending: Record<string, WriteRequest[]> = { [table]: batch.map((Item) => ({ PutRequest: { Item } })) };
      while (Object.keys(pending).length > 0)
        pending = (await client.batchWriteItem({ RequestItems: pending })).UnprocessedItems ?? {};
    });
    return (performance.now() - started) / 1000;
  } finally {
    await dynamo.raw.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  }
}

const heartbeatInterval = Math.max(1000, Math.floor(config.kafka.sessionTimeoutMs / 10));

/** kafkajs's eachBatch loop as ChangeConsumer runs it (chunks, resolve, commit, heartbeat), doing nothing else. */
const kafkajsAlone = (topic: string, groupId: string, gen: ChangeGenerator) =>
  clientFloor('kafkajs', topic, groupId, gen, async (seen) => {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval,
      retry: { retries: 10 },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.pipeline.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        for (let start = 0; start < batch.messages.length; start += config.pipeline.maxChunk) {
          const messages = batch.messages.slice(start, start + config.pipeline.maxChunk);
          resolveOffset((messages.at(-1) as { offset: string }).offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
          seen(messages.length);
        }
      },
    });
    return () => consumer.disconnect();
  });

/** @platformatic/kafka's consumer stream on the same topic, committing every second, doing nothing else. */
const platformaticAlone = (topic: string, groupId: string, gen: ChangeGenerator) =>
  clientFloor('@platformatic/kafka', topic, groupId, gen, async (seen) => {
    const consumer = new Consumer({
      groupId,
      clientId: 'ferry-bench',
      bootstrapBrokers: BROKERS,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval,
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: 1000 });
    stream.on('data', () => seen(1));
    return async () => {
      await stream.close();
      await consumer.close(true);
    };
  });

/** A Kafka client consuming the topic to its end, its CPU measured from connecting on. */
async function clientFloor(
  client: 'kafkajs' | '@platformatic/kafka',
  topic: string,
  groupId: string,
  gen: ChangeGenerator,
  consume: (seen: (messages: number) => void) => Promise<() => Promise<void>>,
): Promise<Result> {
  let count = 0;
  let finish = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const close = await consume((messages) => {
    count += messages;
    if (count >= gen.messages) finish();
  });
  try {
    await finished;
  } finally {
    await close();
    await deleteGroups(kafka, [groupId]);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', client, 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    id: '',
    scenario: `  ${client} ${version}, no-op consumer (same topic)`,
    events: gen.events,
    seconds,
    rate: gen.events / seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    extra: 'a Kafka client floor',
    check: `${fmt(count)} messages`,
  };
}

/**
 * applied-log: what FERRY_APPLIED_LOG_ENABLED costs the hot path, in ferry's CPU per event. The
 * same backlog is drained with the log off and on, alternately, twice each (new groups, best
 * of each kept): into memory, where ferry's own work is least and the log's share greatest; and
 * into DynamoDB Local through the worker's writer, as deployed. The log's records go to a real
 * topic with the source topic's partitions, as a worker creates it.
 */
async function appliedLogCost(template: Template): Promise<Outcome> {
  return scenario('al', async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, N);
    const mapping = await benchMapping(table);
    const logTopic = `${topic}.applied`;
    await createTopic(kafka, logTopic);
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    let round = 0;
    /** Events per CPU-second of the best of two drains with the log off, and with it on. */
    const compare = async (sinkOf: () => Sink, events: number, what: string) => {
      const perCpu = { off: 0, on: 0 };
      const rows: Result[] = [];
      for (const mode of ['off', 'on', 'off', 'on'] as const) {
        const run = await drainBacklog(
          {
            topic,
            groupId: `${groupId}.${round++}`,
            mapping,
            sink: sinkOf(),
            appliedLog: mode === 'on' ? new AppliedLog(producer, logTopic, PARTITIONS, mapping) : undefined,
          },
          gen,
        );
        if (gen.events / run.cpuSeconds <= perCpu[mode]) continue;
        perCpu[mode] = gen.events / run.cpuSeconds;
        rows[mode === 'on' ? 0 : 1] = {
          id: mode === 'on' ? `applied-log` : '',
          scenario: `${mode === 'on' ? '' : '  '}ferry pipeline -> ${what}, applied-changes log ${mode}`,
          events: gen.events,
          seconds: run.seconds,
          rate: gen.events / run.seconds,
          cpuSeconds: run.cpuSeconds,
          check: 'ok',
        };
      }
      const cost = 1 - perCpu.on / perCpu.off;
      Object.assign(rows[0] as Result, {
        extra: `${(cost * 100).toFixed(1)}% fewer events/CPU-s than off (best of 2 each)`,
        goal: '<= 10% cost',
        check: cost <= 0.1 ? 'met' : 'MISSED',
      });
      return { rows, off: Math.round(perCpu.off), on: Math.round(perCpu.on), cost: Number((cost * 100).toFixed(1)) };
    };
    try {
      const memory = await compare(() => new MemorySink(), gen.events, 'in-memory sink');
      await createTable(mapping);
      const dynamodb = await compare(
        () => new DynamoDbWriter(new LeanDynamoDb(config.dynamodb), writerOptions(config.dynamodb)),
        gen.events,
        'DynamoDB Local',
      );
      await deleteGroups(
        kafka,
        Array.from({ length: round }, (_, r) => `${groupId}.${r}`),
      );
      return {
        rows: [...memory.rows, ...dynamodb.rows],
        figures: {
          memoryOffEventsPerCpuSec: memory.off,
          memoryOnEventsPerCpuSec: memory.on,
          memoryCostPercent: memory.cost,
          dynamodbOffEventsPerCpuSec: dynamodb.off,
          dynamodbOnEventsPerCpuSec: dynamodb.on,
          dynamodbCostPercent: dynamodb.cost,
        },
      };
    } finally {
      await producer.disconnect();
      await deleteTopic(kafka, logTopic);
    }
  });
}

/** BatchProcessor + decoder + MemorySink on the same kind of messages held in memory: no Kafka. */
async function processorAlone(
  template: Template,
  chunk: number,
  table: string,
): Promise<Result & { parseUsPerEvent: number }> {
  const gen = new ChangeGenerator(template, keysFor(N));
  const produced: Message[] = [];
  while (gen.events < N) gen.next(Date.now(), produced);
  const messages: SourceMessage[] = produced.map((m, i) => ({
    key: m.key as Buffer,
    value: (m.value ?? null) as Buffer | null,
    offset: String(i),
  }));
  const sink = new MemorySink();
  const processor = new BatchProcessor({
    mapping: await benchMapping(table),
    itemRules: config.pipeline,
    decoder: decoderFor(template.format),
    sink,
    deadLetters: { publish: async () => undefined },
  });
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  for (let start = 0; start < messages.length; start += chunk) {
    const slice = messages.slice(start, start + chunk);
    await processor.process({
      topic: 'in-memory',
      partition: 0,
      highWatermark: String(messages.length),
      messages: slice,
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  // The floor under any decoding: each value parsed into objects and nothing else. For JSON, its
  // payload only (the schema before it repeats, and ferry does not parse it again); avsc for Avro.
  const values = messages.flatMap((m) => (m.value ? [m.value] : []));
  const avro = new AvroEnvelopeDecoder({ url: REGISTRY_URL });
  const first = (values[0] as Buffer).toString('utf8');
  const head = first.startsWith('{"schema":') ? endOfJsonValue(first, '{"schema":'.length) + ',"payload":'.length : 0;
  const origin = { topic: 'in-memory', partition: 0, offset: '0' };
  const parseValue =
    template.format === 'json'
      ? async (v: Buffer) => JSON.parse(v.toString('utf8', head, v.length - (head > 0 ? 1 : 0))) as unknown
      : (v: Buffer) => avro.record(v, origin);
  await parseValue(values[0] as Buffer);
  const parseStart = process.cpuUsage();
  for (const value of values) await parseValue(value);
  const parse = process.cpuUsage(parseStart);
  const parseUsPerEvent = (parse.user + parse.system) / values.length;
  return {
    id: '',
    parseUsPerEvent,
    scenario: '  BatchProcessor alone (same kind of messages, in memory)',
    events: gen.events,
    seconds,
    rate: gen.events / seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    extra: `${fmt(chunk)} msgs/chunk, decode + map + coalesce + MemorySink; parsing each value alone${template.format === 'json' ? ' (its payload)' : ''}: ${parseUsPerEvent.toFixed(1)} µs`,
    check: checkState(
      gen,
      sink.items(table).map((i) => unmarshall(i)),
    ),
  };
}

/** What people write first: eachMessage, JSON.parse, the mapping, one unconditional write at a time. */
async function naive(template: Template, doc: DynamoDBDocumentClient): Promise<Result> {
  return scenario('naive', async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, NAIVE_N);
    const mapping = await benchMapping(table);
    await createTable(mapping);
    const consumer = kafka.consumer({ groupId });
    let seen = 0;
    let writes = 0;
    let startedAt = 0;
    let cpuAtStart = process.cpuUsage();
    let finish = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      startedAt = performance.now();
      cpuAtStart = process.cpuUsage();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) {
          const { payload } = JSON.parse(message.value.toString()) as {
            payload: { op: string; before: Row; after: Row };
          };
          if (payload.op === 'd') {
            for (const { key } of mapping.itemsOf(payload.before)) {
              await doc.send(new DeleteCommand({ TableName: table, Key: key }));
              writes++;
            }
          } else {
            for (const { key, item } of mapping.itemsOf(payload.after)) {
              await doc.send(new PutCommand({ TableName: table, Item: { ...item, ...key } }));
              writes++;
            }
          }
        }
        if (++seen >= gen.messages) finish();
      },
    });
    await finished;
    const seconds = (performance.now() - startedAt) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    await consumer.disconnect();
    log(workloadNote(gen));
    return {
      id: '',
      scenario: `  naive eachMessage + one PutItem/DeleteItem each (${fmt(NAIVE_N)} events)`,
      events: gen.events,
      seconds,
      rate: gen.events / seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      extra: `${fmt(writes)} writes`,
      check: checkState(gen, await scanTable(table)),
    };
  });
}

/**
 * latency-5ms: DynamoDB Local behind Toxiproxy adding 5 ms ± 1 ms each way, as a network to a
 * region adds: ferry, the naive loop, and the BatchWriteItem ceiling through the same proxy.
 */
async function latency(template: Template): Promise<Outcome & { peer: Outcome }> {
  const proxy = await createProxy('ferry-bench-dynamodb', LATENCY_PROXY_PORT, new URL(DYNAMODB_ENDPOINT).host);
  try {
    for (const stream of ['upstream', 'downstream'] as const)
      await proxy.addToxic(`latency-${stream}`, { type: 'latency', stream, attributes: { latency: 5, jitter: 1 } });
    const slow = { ...config.dynamodb, endpoint: proxy.url };
    const slowRaw = createDynamoDbClient(slow);
    const slowDoc = DynamoDBDocumentClient.from(slowRaw, { marshallOptions: { removeUndefinedValues: true } });
    const ran = await scenario('lat', async ({ topic, groupId, table }) => {
      const gen = await backlog(template, topic, N);
      const mapping = await benchMapping(table);
      await createTable(mapping);
      const stack = stackCpu();
      const { seconds, cpuSeconds, chunks, writes } = await drainBacklog(
        { topic, groupId, mapping, sink: new DynamoDbWriter(new LeanDynamoDb(slow), writerOptions(slow)) },
        gen,
      );
      const servers = stack().text;
      const items = await scanTable(table);
      log(workloadNote(gen));
      const row: Result = {
        id: 'latency-5ms',
        scenario: 'ferry -> 5 ms ± 1 ms each way -> DynamoDB Local',
        events: gen.events,
        seconds,
        rate: gen.events / seconds,
        cpuSeconds,
        extra: `${fmt(gen.messages / chunks)} msgs/chunk, ${fmt(writes)} writes; ${servers}`,
        goal: '>= 20x naive',
        check: checkState(gen, items),
      };
      const peerOutcome = await bento(topic, gen, `${table}-peer`, mapping, proxy.url, row);
      return { row, items, writes, mapping, peer: peerOutcome };
    });
    const { row: ferryRow, items, writes, mapping } = ran;
    const naiveRow = await naive(template, slowDoc);
    const ceilingSeconds = await batchCeiling(
      new LeanDynamoDb(slow),
      mapping,
      `ferry-bench-${runId}-lat-ceiling`,
      items,
      writes,
    );
    const ratioVsNaive = ferryRow.rate / naiveRow.rate;
    ferryRow.check = `${ratioVsNaive >= 20 ? 'met' : 'MISSED'}: ${ratioVsNaive.toFixed(1)}x; ${ferryRow.check}`;
    const ceilingRow: Result = {
      id: '',
      scenario: '  BatchWriteItem-only loop, pre-marshalled items, 8 requests in flight',
      events: writes,
      seconds: ceilingSeconds,
      rate: writes / ceilingSeconds,
      extra: 'items, not events: the ceiling',
      check: '',
    };
    return {
      peer: ran.peer,
      rows: [ferryRow, naiveRow, ceilingRow, ...ran.peer.rows],
      figures: {
        ferryEventsPerSec: Math.round(ferryRow.rate),
        naiveEventsPerSec: Math.round(naiveRow.rate),
        batchCeilingItemsPerSec: Math.round(ceilingRow.rate),
        ratioVsNaive: Number(ratioVsNaive.toFixed(1)),
      },
    };
  } finally {
    await proxy.remove();
  }
}

/**
 * peer-redpanda-connect: Bento (the MIT-licensed fork of Benthos, the engine of Redpanda Connect,
 * which is not served here under an open-source licence) on the same topic, through the same
 * proxy, with the customers mapping in bloblang. Its aws_dynamodb output only puts, in batches:
 * deletes are dropped, and nothing is conditional.
 */
async function bento(
  topic: string,
  gen: ChangeGenerator,
  table: string,
  mapping: Mapping,
  endpoint: string,
  ferry: Result,
): Promise<Outcome> {
  const build = spawnSync('bash', [join(__dirname, 'peer.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (build.status !== 0)
    return { rows: [], figures: { skipped: `Bento did not build (scripts/bench/peer.sh exited ${build.status})` } };
  const binary = build.stdout.trim();
  await ensureTable(dynamo.raw, { table, partitionKey: mapping.partitionKey, sortKey: mapping.sortKey });
  const groupId = `${table}-group`;
  const columns = ['pk', 'sk', 'email', 'name', 'status', 'createdAt'];
  const pipelineConfig = {
    http: { enabled: false },
    logger: { level: 'WARN' },
    input: {
      kafka_franz: {
        seed_brokers: BROKERS,
        topics: [topic],
        consumer_group: groupId,
        start_from_oldest: true,
        commit_period: '500ms',
      },
    },
    pipeline: {
      processors: [
        {
          mapping: `map customer {
  root.pk = "CUSTOMER#" + this.id.string()
  root.sk = "PROFILE"
  root.email = this.email.lowercase()
  root.name = this.first_name + " " + this.last_name
  root.status = this.status
  root.createdAt = this.created_at
}
root = if content().length() == 0 { deleted() } else if this.payload.op == "d" { deleted() } else { this.payload.after.apply("customer") }`,
        },
      ],
    },
    output: {
      aws_dynamodb: {
        table,
        endpoint,
        region: config.dynamodb.region,
        credentials: { id: 'local', secret: 'local' },
        string_columns: Object.fromEntries(columns.map((c) => [c, `\${! json("${c}") }`])),
        max_in_flight: 64,
        batching: { count: 25, period: '20ms' },
      },
    },
  };
  const file = join(ROOT, '.stack', `bench-peer-${runId}.json`);
  writeFileSync(file, JSON.stringify(pipelineConfig));
  const admin = kafka.admin();
  await admin.connect();
  const child = spawn(binary, ['-c', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const started = performance.now();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Bento exited with ${child.exitCode}`);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const behind = ends.filter(
        ({ partition, high }) =>
          Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1) < Number(high),
      );
      if (behind.length === 0) break;
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = processCpu(child.pid as number);
    const items = await scanTable(table);
    const puts = gen.ops.c + gen.ops.u;
    const row: Result = {
      id: 'peer-redpanda-connect',
      scenario: 'Bento 1.20.0 (kafka_franz -> bloblang -> aws_dynamodb), same topic and proxy',
      events: gen.events,
      seconds,
      rate: gen.events / seconds,
      cpuSeconds,
      extra: `puts only, 25 a BatchWriteItem, unconditional; its ${fmt(gen.ops.d)} deletes dropped`,
      check: `${fmt(items.length)} items (ferry: ${ferry.check.replace(/^.*ok: /, '')})`,
    };
    return {
      rows: [row],
      figures: {
        peer: 'bento 1.20.0',
        ferryEventsPerSec: Math.round(ferry.rate),
        peerEventsPerSec: Math.round(row.rate),
        ferryCpuUsPerEvent: Math.round(((ferry.cpuSeconds ?? NaN) * 1e6) / ferry.events),
        peerCpuUsPerEvent: Math.round((cpuSeconds * 1e6) / gen.events),
        peerPutsPerEvent: Number((puts / gen.events).toFixed(2)),
      },
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.on('exit', resolve) : resolve(undefined)));
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
    await dynamo.raw.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    rmSync(file, { force: true });
  }
}

/** CPU seconds a process has used so far: utime + stime, in clock ticks of 10 ms. */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

/** freshness-N: source commit (ts_ms = production time) to the end of the chunk that made it durable. */
async function freshness(template: Template, rate: number): Promise<Outcome> {
  return scenario(`fresh-${rate}`, async ({ topic, groupId, table }) => {
    const mapping = await benchMapping(table);
    await createTable(mapping);
    const gen = new ChangeGenerator(template, keysFor(rate * SECONDS));
    const inChunk = new Map<number, number[]>();
    const ages: number[] = [];
    const events = new FerryEvents();
    // How long the sink took for each chunk: DynamoDB Local's share of freshness.
    const writeMs: number[] = [];
    const timed = (sink: Sink): Sink => ({
      write: async (intents, control) => {
        const started = performance.now();
        try {
          return await sink.write(intents, control);
        } finally {
          writeMs.push(performance.now() - started);
        }
      },
    });
    const retries = new Map<string, number>();
    events.on('sink.retry', ({ error }) => {
      const name = (error as { name?: string }).name ?? 'Error';
      retries.set(name, (retries.get(name) ?? 0) + 1);
    });
    const run = await startFerry({
      kafka,
      config,
      topic,
      groupId,
      mapping,
      events,
      sink: timed(new DynamoDbWriter(new LeanDynamoDb(config.dynamodb), writerOptions(config.dynamodb), events)),
      onChange: ({ partition }, committedAtMs) => {
        const list = inChunk.get(partition);
        if (list) list.push(committedAtMs);
        else inChunk.set(partition, [committedAtMs]);
      },
    });
    run.events.on('batch.done', ({ partition }) => {
      const ackedAt = Date.now();
      for (const committedAtMs of inChunk.get(partition) ?? []) ages.push(ackedAt - committedAtMs);
      inChunk.delete(partition);
    });
    await run.joined;
    const producer = await connectProducer(kafka);
    const started = performance.now();
    let achieved: number;
    try {
      achieved = await produceAtRate(producer, topic, gen, rate, SECONDS);
    } finally {
      await producer.disconnect();
    }
    const producedAt = performance.now();
    await run.drained(gen.messages);
    const seconds = (performance.now() - started) / 1000;
    const tail = (performance.now() - producedAt) / 1000;
    await run.stop();
    ages.sort((a, b) => a - b);
    log(`${workloadNote(gen)}; produced at ${fmt(achieved)}/s; ${fmt(ages.length)} freshness samples`);
    const p50Ms = percentile(ages, 50);
    const p99Ms = percentile(ages, 99);
    const row: Result = {
      id: `freshness-${rate}`,
      scenario: `freshness at ${fmt(rate)}/s for ${SECONDS} s -> DynamoDB Local`,
      events: gen.events,
      seconds,
      rate: gen.events / seconds,
      extra: `freshness p50 ${fmt(p50Ms)} ms, p99 ${fmt(p99Ms)} ms, max ${fmt(ages.at(-1) ?? NaN)} ms; drained ${fmt(tail, 1)} s after the last send; chunk writes p99 ${fmt(
        percentile(
          writeMs.sort((a, b) => a - b),
          99,
        ),
      )} ms, max ${fmt(writeMs.at(-1) ?? NaN)} ms; write retries: ${[...retries].map(([n, c]) => `${n} ${c}`).join(', ') || 'none'}`,
      check: ages.length === gen.events ? checkState(gen, await scanTable(table)) : `MISSING samples: ${ages.length}`,
    };
    return { rows: [row], figures: { p50Ms, p99Ms } };
  });
}

/** drain-1m: a 1M-event backlog drained by ferry in a child process (acknowledging sink), its RSS sampled every 250 ms. */
async function drain(template: Template): Promise<Outcome> {
  return scenario('drain', async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, BACKLOG);
    const args: DrainArgs = { topic, groupId, table, messages: gen.messages };
    const profile = flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`] : [];
    // The worker's heap limit, as the Helm chart sets it.
    profile.push(...DEPLOYED_NODE_OPTIONS.split(' '));
    const child = spawn(
      process.execPath,
      [...profile, '--import', 'tsx', join(__dirname, 'drain.ts'), JSON.stringify(args)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) throw new Error(`drain.ts exited with ${code}: ${out}`);
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '') as DrainResult;
    log(`${workloadNote(gen)}; ${result.samples} RSS samples`);
    const row: Result = {
      id: 'drain-1m',
      scenario: `drain a ${fmt(BACKLOG)}-event backlog -> acknowledging sink (child, ${DEPLOYED_NODE_OPTIONS})`,
      events: gen.events,
      seconds: result.seconds,
      rate: gen.events / result.seconds,
      cpuSeconds: result.cpuSeconds,
      extra: `peak RSS ${fmt(result.peakRssMb)} MB (idle ${fmt(result.baselineRssMb)} MB; at the peak V8 heap ${fmt(result.atPeak.heapTotalMb)} MB, Buffers ${fmt(result.atPeak.externalMb)} MB); ${fmt(gen.messages / result.chunks)} msgs/chunk, ${fmt(result.writes)} writes`,
      check:
        result.acknowledged === result.writes
          ? `ok: ${fmt(result.writes)} writes acknowledged`
          : `MISMATCH: ${result.acknowledged} of ${result.writes}`,
    };
    return { rows: [row], figures: { peakRssMb: Math.round(result.peakRssMb) } };
  });
}

/**
 * write-kinds: what each kind of write costs, straight through the writer (no Kafka): creates (one
 * transaction with the remembered-delete check), updates (one conditional put), deletes (the
 * remembered delete, then the delete), against plain version-guarded PutItem/DeleteItem, which
 * remember nothing, in the same run. CPU is this process's plus DynamoDB Local's.
 */
async function writeKinds(): Promise<Outcome> {
  return scenario('wk', async ({ table }) => {
    const mapping = await benchMapping(table);
    await createTable(mapping);
    const items = WRITE_COST_N;
    const intent = (i: number, kind: 'put' | 'delete', op: Operation, pos: number): WriteIntent => {
      const key = { pk: `C#${i}`, sk: 'PROFILE' };
      const keyAttributes = { pk: { S: key.pk }, sk: { S: key.sk } };
      const event: ChangeEvent = {
        op,
        table: 'inventory.customers',
        before: null,
        after: null,
        position: {
          version: formatVersion(1, pos, i, kind === 'delete' ? 1 : 2, Date.now()),
          snapshot: false,
          committedAtMs: Date.now(),
        },
        origin: { topic: 'bench', partition: 0, offset: String(i) },
      };
      return kind === 'put'
        ? {
            kind,
            table,
            key,
            item: key,
            attributes: { ...keyAttributes, email: { S: `customer${i}@example.com` }, n: { N: String(pos) } },
            event,
          }
        : { kind, table, key, keyAttributes, event };
    };
    const writer = new DynamoDbWriter(new LeanDynamoDb(config.dynamodb), writerOptions(config.dynamodb));
    const plain = async (batch: WriteIntent[]) =>
      mapConcurrent(batch, config.dynamodb.writeConcurrency, async (w) => {
        const guard = { TableName: table, ...versionGuard(w.event.position.version) };
        if (w.kind === 'delete') return dynamo.raw.send(new DeleteItemCommand({ ...guard, Key: w.keyAttributes }));
        const Item = { ...w.attributes, _ferry_version: { S: w.event.position.version } };
        return dynamo.raw.send(new PutItemCommand({ ...guard, Item }));
      });
    const measure = async (what: string, batch: WriteIntent[], write: (b: WriteIntent[]) => Promise<unknown>) => {
      const cpu = process.cpuUsage();
      const server = serverCpu('dynamodb');
      const started = performance.now();
      for (let i = 0; i < batch.length; i += 1000) await write(batch.slice(i, i + 1000));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const cpuSeconds = (used.user + used.system) / 1e6;
      const serverSeconds = serverCpu('dynamodb') - server;
      return {
        id: '',
        scenario: `  ${what}`,
        events: batch.length,
        seconds,
        rate: batch.length / seconds,
        cpuSeconds,
        extra: `${fmt((cpuSeconds * 1e6) / batch.length)} µs client + ${fmt((serverSeconds * 1e6) / batch.length)} µs DynamoDB Local CPU per write`,
        check: '',
      };
    };
    const range = Array.from({ length: items }, (_v, i) => i);
    const results: Result[] = [];
    // Remembered: create, update, delete; then the plain scheme on other keys of the same table.
    results.push(
      await measure(
        'create, remembered-delete check (1 transaction)',
        range.map((i) => intent(i, 'put', 'create', 10)),
        (b) => writer.write(b),
      ),
    );
    results.push(
      await measure(
        'update (1 conditional put)',
        range.map((i) => intent(i, 'put', 'update', 20)),
        (b) => writer.write(b),
      ),
    );
    results.push(
      await measure(
        'delete, remembered (2 requests)',
        range.map((i) => intent(i, 'delete', 'delete', 30)),
        (b) => writer.write(b),
      ),
    );
    const other = range.map((i) => i + items);
    results.push(
      await measure(
        'baseline: create as a plain conditional put',
        other.map((i) => intent(i, 'put', 'create', 10)),
        plain,
      ),
    );
    results.push(
      await measure(
        'baseline: delete as a plain conditional delete',
        other.map((i) => intent(i, 'delete', 'delete', 30)),
        plain,
      ),
    );
    const remaining = await scanTable(table);
    for (const r of results)
      r.check = remaining.length === 0 ? 'ok: table empty after deletes' : `MISMATCH: ${remaining.length} items left`;
    const us = (i: number) => Math.round(((results[i]?.cpuSeconds ?? NaN) * 1e6) / items);
    return {
      rows: [
        {
          id: 'write-kinds',
          scenario: `each kind of write through the writer into DynamoDB Local, ${fmt(items)} items each`,
          events: 0,
          seconds: 0,
          rate: 0,
          check: '',
        },
        ...results,
      ],
      figures: {
        createUsPerWrite: us(0),
        updateUsPerWrite: us(1),
        deleteUsPerWrite: us(2),
        plainPutUsPerWrite: us(3),
        plainDeleteUsPerWrite: us(4),
      },
    };
  });
}

function machine(): string[] {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return [
    `machine: nproc ${availableParallelism()}, CPU ${model}, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, node ${process.version}, load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `ferry settings: worker defaults (partitionsConsumedConcurrently ${config.pipeline.partitionsConsumedConcurrently}, maxChunk ${config.pipeline.maxChunk}, DynamoDB write concurrency ${config.dynamodb.writeConcurrency}); topics of ${PARTITIONS} partitions`,
    `workload: synthetic Debezium events cloned from a snapshot event of each sample connector's customers topic; N = ${fmt(N)}, keys = N/4, 8% deletes (each followed by a tombstone); rates count change events`,
  ];
}

function table(results: Result[]): string[] {
  const header = ['#', 'scenario', 'events', 'seconds', 'events/s', 'CPU s', 'events/CPU-s', 'result', 'goal', 'check'];
  const rows = results.map((r) => [
    r.id,
    r.scenario,
    fmt(r.events),
    fmt(r.seconds, 1),
    fmt(r.rate),
    r.cpuSeconds === undefined ? '' : fmt(r.cpuSeconds, 1),
    r.cpuSeconds === undefined ? '' : fmt(r.events / r.cpuSeconds),
    r.extra ?? '',
    r.goal ?? '',
    r.check,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

async function main() {
  const started = performance.now();
  const templates = new Map<Format, Promise<Template>>();
  const captured = (format: Format) => {
    if (!templates.has(format))
      templates.set(
        format,
        captureTemplate(kafka, format, REGISTRY_URL).then((t) => {
          log(`template: ${t.bytes}-byte ${format} snapshot event of ${SOURCE_TOPICS[format]}`);
          return t;
        }),
      );
    return templates.get(format) as Promise<Template>;
  };
  // The peer runs on latency-5ms's topic, right after ferry: one run serves both names.
  let latencyRun: ReturnType<typeof latency> | undefined;
  const withPeer = async () => (latencyRun ??= latency(await captured('json')));
  const run: Record<Name, () => Promise<Outcome>> = {
    'write-cpu': writeCpuScenario,
    'pipeline-json': async () => pipeline(await captured('json')),
    'pipeline-avro': async () => pipeline(await captured('avro')),
    'latency-5ms': async () => withPeer(),
    rebuild: async () => rebuild(await captured('json')),
    'peer-redpanda-connect': async () => ({ ...(await withPeer()).peer, rows: [] }),
    'drain-1m': async () => drain(await captured('json')),
    'freshness-500': async () => freshness(await captured('json'), 500),
    'write-kinds': writeKinds,
    'applied-log': async () => appliedLogCost(await captured('json')),
  };
  const rows: Result[] = [];
  const figures: Partial<Record<Name, Figures>> = {};
  for (const name of NAMES) {
    if (!only.includes(name)) continue;
    log(`${name}...`);
    const outcome = await run[name]();
    rows.push(...outcome.rows);
    figures[name] = outcome.figures;
  }
  if (flags.json) writeFileSync(flags.json, `${JSON.stringify({ scenarios: figures }, null, 2)}\n`);
  const lines = [
    ...machine(),
    '',
    ...table(rows),
    '',
    `bench wall time ${fmt((performance.now() - started) / 1000)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** write-cpu: client CPU per conditional PutItem against a loopback stub (write-cpu.ts). */
async function writeCpuScenario(): Promise<Outcome> {
  const figures = await writeCpu();
  const row: Result = {
    id: 'write-cpu',
    scenario: `client CPU per conditional PutItem, ${fmt(figures.inFlight)} in flight, loopback stub answering {}: lean ${figures.leanUsPerWrite} µs, SDK ${figures.sdkUsPerWrite} µs, unsigned http floor ${figures.httpFloorUsPerRequest} µs`,
    events: figures.writes,
    seconds: 0,
    rate: 0,
    extra: `SDK / lean ${(figures.sdkUsPerWrite / figures.leanUsPerWrite).toFixed(1)}x`,
    goal: 'lean <= 150 µs',
    check: figures.leanUsPerWrite <= 150 ? 'met' : 'MISSED',
  };
  const { leanUsPerWrite, sdkUsPerWrite, httpFloorUsPerRequest } = figures;
  return { rows: [row], figures: { leanUsPerWrite, sdkUsPerWrite, httpFloorUsPerRequest } };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
