/**
 * ferry's benchmark: synthetic Debezium events, cloned from a real message of the local JSON
 * connector, through ferry and through a naive consumer; prints one table.
 *
 *   npm run bench [-- --events 100000 --naive-events 10000 --rate 500,2000 --seconds 30 --backlog 1000000 --scenarios 1,2,3,4,5]
 *   npm run bench -- --only write-cpu [--json <file>]
 *
 * Needs the local stack (scripts/stack.sh up) with the `ferry-inventory-json` connector registered
 * (write-cpu needs nothing). --json writes { "scenarios": { <name>: { ...figures } } }.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  PutItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Message } from 'kafkajs';
import type { Row } from '../../src/core/change-event';
import type { Mapping } from '../../src/mapping/define-mapping';
import type { ChangeEvent, Operation } from '../../src/core/change-event';
import { mapConcurrent } from '../../src/core/concurrency';
import { formatVersion } from '../../src/core/version';
import type { WriteIntent } from '../../src/core/write-intent';
import type { SourceMessage } from '../../src/core/batch';
import { BatchProcessor } from '../../src/pipeline/batch-processor';
import { createDynamoDbClient } from '../../src/sink/dynamodb/client';
import { DynamoDbWriter, versionGuard, writerOptions } from '../../src/sink/dynamodb/dynamodb-writer';
import { BatchRebuildWriter } from '../../src/sink/dynamodb/batch-writer';
import { LeanDynamoDb } from '../../src/sink/dynamodb/lean-client';
import { ensureDeletesTable } from '../../src/sink/dynamodb/deletes';
import { ensureTable } from '../../src/sink/dynamodb/table-admin';
import { MemorySink } from '../../src/sink/memory/memory-sink';
import { JsonEnvelopeDecoder } from '../../src/source/debezium/json-decoder';
import type { DrainArgs, DrainResult } from './drain';
import { writeCpu } from './write-cpu';
import { benchConfig, benchKafka, benchMapping, startFerry } from './ferry-run';
import {
  ChangeGenerator,
  type Template,
  captureTemplate,
  connectProducer,
  createTopic,
  deleteGroups,
  deleteTopic,
  produceAtRate,
  produceBacklog,
  uniqueId,
} from './workload';

const ROOT = join(__dirname, '..', '..');
const PIPELINE_GOAL = 50_000;
const RATIO_GOAL = 10;

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'naive-events': { type: 'string', default: '10000' },
    rate: { type: 'string', default: '500,2000' },
    seconds: { type: 'string', default: '30' },
    backlog: { type: 'string', default: '1000000' },
    'heap-mb': { type: 'string', default: '256' },
    scenarios: { type: 'string', default: '1,2,3,4,5,6' },
    'write-cost-items': { type: 'string', default: '5000' },
    /** Named scenarios to run instead of the numbered ones (write-cpu). */
    only: { type: 'string' },
    /** Where to write every scenario's figures as JSON. */
    json: { type: 'string' },
    /** Profile the drain child (scenario 5) with node --cpu-prof into this directory. */
    'cpu-prof': { type: 'string' },
  },
});
const N = Number(flags.events);
const NAIVE_N = Number(flags['naive-events']);
const WRITE_COST_N = Number(flags['write-cost-items']);
/** Steady rates for scenario 4: one below what DynamoDB Local takes on this machine, one above. */
const RATES = flags.rate.split(',').map(Number);
const SECONDS = Number(flags.seconds);
const BACKLOG = Number(flags.backlog);
const only = flags.only === undefined ? undefined : new Set(flags.only.split(','));
const scenarios = new Set(only ? [] : flags.scenarios.split(',').map(Number));
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
    const pid = readFileSync(join(ROOT, '.stack', name, `${name}.pid`), 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

/** Measures the stack servers' CPU over a window. */
function stackCpu() {
  const dynamodb = serverCpu('dynamodb');
  const kafka = serverCpu('kafka');
  return () =>
    `DynamoDB Local ${fmt(serverCpu('dynamodb') - dynamodb, 1)} CPU-s, Kafka ${fmt(serverCpu('kafka') - kafka, 1)} CPU-s`;
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

async function backlog(template: Template, topic: string, events: number): Promise<ChangeGenerator> {
  const gen = new ChangeGenerator(template, keysFor(events));
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

/** 1 and 2: ferry's consumer path over a backlog, into memory or DynamoDB Local. */
async function ferryBacklog(template: Template, sinkKind: 'memory' | 'dynamodb'): Promise<Result[]> {
  return scenario(sinkKind === 'memory' ? 's1' : 's2', async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, N);
    const mapping = await benchMapping(table);
    const memory = new MemorySink();
    if (sinkKind === 'dynamodb') await createTable(mapping);
    const stack = stackCpu();
    const run = await startFerry({
      kafka,
      config,
      topic,
      groupId,
      mapping,
      sink:
        sinkKind === 'memory'
          ? memory
          : new DynamoDbWriter(new LeanDynamoDb(config.dynamodb), writerOptions(config.dynamodb)),
    });
    const { seconds, cpuSeconds, chunks, writes } = await run.drained(gen.messages);
    const servers = stack();
    await run.stop();
    const items = sinkKind === 'memory' ? memory.items(table).map((i) => unmarshall(i)) : await scanTable(table);
    log(workloadNote(gen));
    const chunk = Math.round(gen.messages / chunks);
    const result: Result = {
      id: sinkKind === 'memory' ? '1' : '2',
      scenario: sinkKind === 'memory' ? 'ferry pipeline -> MemorySink' : 'ferry -> DynamoDB Local',
      events: gen.events,
      seconds,
      rate: gen.events / seconds,
      cpuSeconds,
      extra: `${fmt(chunk)} msgs/chunk, ${fmt(writes)} writes; ${servers}`,
      goal:
        sinkKind === 'memory'
          ? `>= ${fmt(PIPELINE_GOAL)}/CPU-s: ${gen.events / cpuSeconds >= PIPELINE_GOAL ? 'met' : 'MISSED'}`
          : undefined,
      check: checkState(gen, items),
    };
    if (sinkKind === 'dynamodb') return [result];
    // Where scenario 1's CPU goes: the same topic through kafkajs alone, and the same messages through the pipeline alone.
    return [result, await kafkajsAlone(topic, `${groupId}.kafkajs`, gen), await processorAlone(template, chunk, table)];
  });
}

/**
 * rebuild: a backlog replayed as `ferry rebuild` writes it (the batch writer), against the
 * ceiling of DynamoDB Local here: a loop that only batch-writes as many pre-marshalled items.
 */
async function rebuild(template: Template): Promise<{ result: Result; figures: Record<string, number> }> {
  return scenario('rb', async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, N);
    const mapping = await benchMapping(table);
    await createTable(mapping);
    const options = writerOptions(config.dynamodb);
    const conditional = new DynamoDbWriter(new LeanDynamoDb(config.dynamodb), options);
    const run = await startFerry({
      kafka,
      config,
      topic,
      groupId,
      mapping,
      sink: new BatchRebuildWriter(dynamo.raw, options, conditional),
    });
    const { seconds, cpuSeconds, writes } = await run.drained(gen.messages);
    await run.stop();
    const items = await scanTable(table);
    const check = checkState(gen, items);

    // The ceiling: the same number of items, marshalled beforehand, 25 a request, 8 requests in flight.
    const ceilingTable = `${table}-ceiling`;
    await ensureTable(dynamo.raw, {
      table: ceilingTable,
      partitionKey: mapping.partitionKey,
      sortKey: mapping.sortKey,
    });
    try {
      const sample = items.map((i) => marshall(i, { removeUndefinedValues: true, convertClassInstanceToMap: true }));
      const prepared = Array.from({ length: writes }, (_, i) => ({
        ...(sample[i % sample.length] as Record<string, AttributeValue>),
        pk: { S: `CEILING#${i}` },
      }));
      const requests: Array<Array<Record<string, AttributeValue>>> = [];
      for (let i = 0; i < prepared.length; i += 25) requests.push(prepared.slice(i, i + 25));
      const started = performance.now();
      await mapConcurrent(requests, 8, async (batch) => {
        let pending: Record<string, WriteRequest[]> = {
          [ceilingTable]: batch.map((Item) => ({ PutRequest: { Item } })),
        };
        while (Object.keys(pending).length > 0)
          pending =
            (await dynamo.raw.send(new BatchWriteItemCommand({ RequestItems: pending }))).UnprocessedItems ?? {};
      });
      const ceilingSeconds = (performance.now() - started) / 1000;
      const itemsPerSec = writes / seconds;
      const ceilingItemsPerSec = writes / ceilingSeconds;
      const ratio = itemsPerSec / ceilingItemsPerSec;
      return {
        figures: {
          itemsPerSec: Math.round(itemsPerSec),
          ceilingItemsPerSec: Math.round(ceilingItemsPerSec),
          ratioToCeiling: Number(ratio.toFixed(2)),
        },
        result: {
          id: 'r',
          scenario: 'rebuild (batch writer) -> DynamoDB Local, against a BatchWriteItem-only loop',
          events: gen.events,
          seconds,
          rate: gen.events / seconds,
          cpuSeconds,
          extra: `${fmt(writes)} items at ${fmt(itemsPerSec)}/s; ceiling ${fmt(ceilingItemsPerSec)}/s (${fmt(ceilingSeconds, 1)} s): ${(ratio * 100).toFixed(0)}%`,
          goal: '>= 80% of the ceiling',
          check: `${ratio >= 0.8 ? 'met' : 'MISSED'}; ${check}`,
        },
      };
    } finally {
      await dynamo.raw.send(new DeleteTableCommand({ TableName: ceilingTable })).catch(() => undefined);
    }
  });
}

/** 1a: kafkajs's eachBatch loop as ChangeConsumer runs it (chunks, resolve, commit, heartbeat), doing nothing else. */
async function kafkajsAlone(topic: string, groupId: string, gen: ChangeGenerator): Promise<Result> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: Math.max(1000, Math.floor(config.kafka.sessionTimeoutMs / 10)),
    retry: { retries: 10 },
  });
  let seen = 0;
  let startedAt = 0;
  let cpuAtStart = process.cpuUsage();
  let finish = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    startedAt = performance.now();
    cpuAtStart = process.cpuUsage();
  });
  try {
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
          seen += messages.length;
        }
        if (seen >= gen.messages) finish();
      },
    });
    await finished;
  } finally {
    await consumer.disconnect();
    await deleteGroups(kafka, [groupId]);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    id: '1a',
    scenario: '  kafkajs consumer alone (same topic, no-op eachBatch)',
    events: gen.events,
    seconds,
    rate: gen.events / seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    extra: 'the Kafka client floor under 1',
    check: `${fmt(seen)} messages`,
  };
}

/** 1b: BatchProcessor + JsonEnvelopeDecoder + MemorySink on the same messages held in memory: no Kafka. */
async function processorAlone(template: Template, chunk: number, table: string): Promise<Result> {
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
    decoder: new JsonEnvelopeDecoder(),
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
  return {
    id: '1b',
    scenario: '  BatchProcessor alone (same messages in memory)',
    events: gen.events,
    seconds,
    rate: gen.events / seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    extra: `${fmt(chunk)} msgs/chunk, decode + map + coalesce + MemorySink`,
    check: checkState(
      gen,
      sink.items(table).map((i) => unmarshall(i)),
    ),
  };
}

/** 3: what people write first: eachMessage, JSON.parse, the mapping, one unconditional write at a time. */
async function naive(template: Template): Promise<Result> {
  return scenario('s3', async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, NAIVE_N);
    const mapping = await benchMapping(table);
    await createTable(mapping);
    const stack = stackCpu();
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
              await dynamo.doc.send(new DeleteCommand({ TableName: table, Key: key }));
              writes++;
            }
          } else {
            for (const { key, item } of mapping.itemsOf(payload.after)) {
              await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...item, ...key } }));
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
    const servers = stack();
    await consumer.disconnect();
    log(workloadNote(gen));
    return {
      id: '3',
      scenario: `naive eachMessage -> DynamoDB Local${NAIVE_N !== N ? ` (N'=${fmt(NAIVE_N)})` : ''}`,
      events: gen.events,
      seconds,
      rate: gen.events / seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      extra: `${fmt(writes)} writes; ${servers}`,
      check: checkState(gen, await scanTable(table)),
    };
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

/** 4: source commit (ts_ms = production time) to the end of the chunk that made it durable. */
async function freshness(template: Template, rate: number): Promise<Result> {
  return scenario(`s4-${rate}`, async ({ topic, groupId, table }) => {
    const mapping = await benchMapping(table);
    await createTable(mapping);
    const gen = new ChangeGenerator(template, keysFor(rate * SECONDS));
    const inChunk = new Map<number, number[]>();
    const ages: number[] = [];
    const run = await startFerry({
      kafka,
      config,
      topic,
      groupId,
      mapping,
      sink: new DynamoDbWriter(new LeanDynamoDb(config.dynamodb), writerOptions(config.dynamodb)),
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
    return {
      id: '4',
      scenario: `freshness at ${fmt(rate)}/s for ${SECONDS} s -> DynamoDB Local`,
      events: gen.events,
      seconds,
      rate: gen.events / seconds,
      extra: `freshness p50 ${fmt(percentile(ages, 50))} ms, p99 ${fmt(percentile(ages, 99))} ms, max ${fmt(ages.at(-1) ?? NaN)} ms; drained ${fmt(tail, 1)} s after the last send`,
      check: ages.length === gen.events ? checkState(gen, await scanTable(table)) : `MISSING samples: ${ages.length}`,
    };
  });
}

/** 5: a 1M-event backlog drained by ferry in a child process (acknowledging sink), its RSS sampled every 250 ms. */
async function rss(template: Template): Promise<Result> {
  return scenario('s5', async ({ topic, groupId, table }) => {
    const gen = await backlog(template, topic, BACKLOG);
    const args: DrainArgs = { topic, groupId, table, messages: gen.messages };
    const profile = flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`] : [];
    // The worker's heap limit, as a deployment sets it (NODE_OPTIONS in deploy/kubernetes).
    profile.push(`--max-old-space-size=${flags['heap-mb']}`);
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
    return {
      id: '5',
      scenario: `drain a ${fmt(BACKLOG)}-event backlog -> acknowledging sink (child, heap ${flags['heap-mb']} MB)`,
      events: gen.events,
      seconds: result.seconds,
      rate: gen.events / result.seconds,
      cpuSeconds: result.cpuSeconds,
      extra: `peak RSS ${fmt(result.peakRssMb)} MB (idle ${fmt(result.baselineRssMb)} MB); ${fmt(gen.messages / result.chunks)} msgs/chunk, ${fmt(result.writes)} writes`,
      check:
        result.acknowledged === result.writes
          ? `ok: ${fmt(result.writes)} writes acknowledged`
          : `MISMATCH: ${result.acknowledged} of ${result.writes}`,
    };
  });
}

/**
 * 6: what each kind of write costs, straight through the writer (no Kafka): creates (one
 * transaction with the remembered-delete check), updates (one conditional put), deletes (the
 * remembered delete, then the delete), against plain version-guarded PutItem/DeleteItem, which
 * remember nothing, in the same run. CPU is this process's plus DynamoDB Local's.
 */
async function writeCost(): Promise<Result[]> {
  return scenario('s6', async ({ table }) => {
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
        id: '6',
        scenario: what,
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
    return results;
  });
}

function machine(): string[] {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return [
    `machine: nproc ${availableParallelism()}, CPU ${model}, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, node ${process.version}, load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `ferry settings: worker defaults (partitionsConsumedConcurrently ${config.pipeline.partitionsConsumedConcurrently}, maxChunk ${config.pipeline.maxChunk}, DynamoDB write concurrency ${config.dynamodb.writeConcurrency}); topics of 12 partitions`,
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
  // Scenarios 1-5 clone a captured Debezium event; scenario 6 writes without Kafka.
  let template: Template | undefined;
  const captured = async () => {
    if (!template) {
      template = await captureTemplate(kafka);
      log(`template: ${template.bytes}-byte snapshot event of ferry.inventory.customers`);
    }
    return template;
  };
  const results: Result[] = [];
  const steps: Array<[number, () => Promise<Result | Result[]>]> = [
    [1, async () => ferryBacklog(await captured(), 'memory')],
    [2, async () => ferryBacklog(await captured(), 'dynamodb')],
    [3, async () => naive(await captured())],
    ...RATES.map((rate): [number, () => Promise<Result>] => [4, async () => freshness(await captured(), rate)]),
    [5, async () => rss(await captured())],
    [6, () => writeCost()],
  ];
  for (const [id, step] of steps) {
    if (!scenarios.has(id)) continue;
    log(`scenario ${id}...`);
    results.push(...[await step()].flat());
  }
  const named: Record<string, object> = {};
  if (only?.has('write-cpu')) {
    log('write-cpu...');
    const figures = await writeCpu();
    named['write-cpu'] = figures;
    results.push({
      id: 'w',
      scenario: `client CPU per conditional PutItem, ${fmt(figures.inFlight)} in flight, loopback stub answering {}: lean ${figures.leanUsPerWrite} µs, SDK ${figures.sdkUsPerWrite} µs, unsigned http floor ${figures.httpFloorUsPerRequest} µs`,
      events: figures.writes,
      seconds: 0,
      rate: 0,
      extra: `SDK / lean ${(figures.sdkUsPerWrite / figures.leanUsPerWrite).toFixed(1)}x`,
      goal: 'lean <= 150 µs',
      check: figures.leanUsPerWrite <= 150 ? 'met' : 'MISSED',
    });
  }
  if (only?.has('rebuild')) {
    log('rebuild...');
    const { result, figures } = await rebuild(await captured());
    named.rebuild = figures;
    results.push(result);
  }
  if (flags.json)
    writeFileSync(
      flags.json,
      `${JSON.stringify({ scenarios: { ...Object.fromEntries(results.filter((r) => r.id !== 'w' && r.id !== 'r').map((r) => [`${r.id} ${r.scenario.trim()}`, r])), ...named } }, null, 2)}\n`,
    );
  const lines = [
    ...machine(),
    ...(template
      ? [
          `workload: synthetic Debezium JSON events cloned from a ${template.bytes}-byte snapshot event of ferry.inventory.customers (schema + payload, headers, key); N = ${fmt(N)} for 1-2, keys = N/4; deletes are followed by tombstones; rates count change events`,
        ]
      : []),
    '',
    ...table(results),
  ];
  const ferry = results.find((r) => r.id === '2');
  const naiveResult = results.find((r) => r.id === '3');
  if (ferry && naiveResult) {
    const ratio = ferry.rate / naiveResult.rate;
    lines.push(
      '',
      `ferry / naive into DynamoDB Local: ${ratio.toFixed(1)}x (goal >= ${RATIO_GOAL}x: ${ratio >= RATIO_GOAL ? 'met' : 'MISSED'})`,
    );
  }
  lines.push(`bench wall time ${fmt((performance.now() - started) / 1000)} s`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
