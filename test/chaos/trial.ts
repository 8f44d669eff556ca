/**
 * One nemesis run: a mixed workload on the accounts table, workers in one consumer group behind a
 * fault proxy, the nemesis acting during the load, then the end state checked twice.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { deadLetterTopic } from '../../src/pipeline/dead-letters';
import {
  ACCOUNTS_SCHEMA,
  ACCOUNTS_SELECT,
  AccountsWorkload,
  accountsMapping,
  decodeAccount,
  random,
} from '../support/accounts-workload';
import { Scenario } from '../support/scenario';
import { ROOT, type RunningWorker, dynamoDb, kafka, stack, waitFor } from '../support/stack';
import { type ThrottleProxy, startThrottleProxy } from '../support/throttle-proxy';
import { type Proxy, createProxy } from '../support/toxiproxy';

export interface TrialSettings {
  short: boolean;
  seed: number;
  /** Source changes per second the workload aims at. */
  rate: number;
  log: (line: string) => void;
}

export interface Nemesis {
  name: string;
  /** Workers in the group when the load starts. */
  workers: number;
  /** What it does, for the report. */
  describe: (short: boolean) => string;
  act: (trial: Trial) => Promise<void>;
}

export interface NemesisReport {
  nemesis: string;
  fault: string;
  short: boolean;
  seed: number;
  changes: number;
  faults: number;
  /** Messages handed to a worker more than once (after a kill, a rebalance, a lost commit). */
  redelivered: number;
  /** Changes Debezium published more than once (it resumes from its last committed offset). */
  sourceDuplicates: number;
  maxLag: number;
  /** From the end of the load (after the last fault) until the group has caught up with a change made then. */
  recoverySeconds: number;
  /** A change's trip from MariaDB to DynamoDB once recovered. */
  freshnessMs: number;
  deadLetters: number;
  /** Items the independent scan found missing, extra or different. */
  divergent: number;
  /** What `ferry verify` found missing, extra or different, and its exit code. */
  verifyDivergent: number;
  verifyExit: number;
  verifyAgreed: boolean;
  /** Figures particular to the nemesis (throttles counted, rebalances during the fault...). */
  figures: Record<string, number>;
  durationSeconds: number;
  failures: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Trial {
  readonly scenario = new Scenario();
  /** The nemesis's schedule; the workload has its own generator, so each replays from the seed. */
  readonly rnd: ReturnType<typeof random>;
  workload!: AccountsWorkload;
  /** Workers reach DynamoDB through Toxiproxy (outages, latency), then ferry's throttling proxy. */
  dynamo!: Proxy;
  throttle!: ThrottleProxy;
  faults = 0;
  readonly figures: Record<string, number> = {};
  readonly failures: string[] = [];
  private mapping = '';
  private mappingName = '';
  private readonly live = new Set<RunningWorker>();
  private readonly stopped = new WeakSet<RunningWorker>();
  private readonly lag = new LagMonitor();
  private tearingDown = false;
  private probes = 0;

  constructor(
    readonly nemesis: Nemesis,
    readonly settings: TrialSettings,
  ) {
    this.rnd = random(settings.seed + 1);
  }

  get short(): boolean {
    return this.settings.short;
  }

  log(line: string): void {
    this.settings.log(`[${this.nemesis.name}] ${line}`);
  }

  workers(): RunningWorker[] {
    return [...this.live];
  }

  async startWorker(): Promise<RunningWorker> {
    const worker = await this.scenario.startWorker(this.mapping, {
      FERRY_LOG_LEVEL: 'debug',
      FERRY_DYNAMODB_ENDPOINT: this.dynamo.url,
    });
    this.live.add(worker);
    void worker.exited.then(async (code) => {
      this.live.delete(worker);
      if (this.stopped.has(worker) || this.tearingDown) return;
      const last = worker.output().trim().split('\n').slice(-3).join('\n');
      this.failures.push(`a worker exited on its own (code ${code}): ${last}`);
      this.log(`a worker exited on its own (code ${code}); starting another, as an orchestrator would`);
      await this.startWorker().catch((err: Error) => this.failures.push(err.message));
    });
    return worker;
  }

  async stopWorker(worker: RunningWorker, signal: NodeJS.Signals): Promise<void> {
    this.stopped.add(worker);
    await worker.stop(signal);
  }

  changes(): number {
    return this.workload.changes;
  }

  async untilChanges(count: number): Promise<void> {
    while (this.workload.changes < count) await sleep(100);
  }

  sleep(ms: number): Promise<void> {
    return sleep(ms);
  }

  /** Runs scripts/stack.sh (stop or start one component of the local stack). */
  async stack(...args: string[]): Promise<void> {
    const child = spawn('bash', [join(ROOT, 'scripts/stack.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) throw new Error(`scripts/stack.sh ${args.join(' ')} failed (${code}):\n${output}`);
    this.log(output.trim());
  }

  /** The scenario's connector task runs again (after Kafka Connect restarted). */
  async connectorRunning(): Promise<void> {
    await waitFor(
      'the connector task RUNNING',
      async () => {
        const res = await fetch(`${stack.connectUrl}/connectors/${this.scenario.connector?.name}/status`);
        const status = (await res.json()) as { tasks?: Array<{ state: string }> };
        return status.tasks?.length && status.tasks.every((t) => t.state === 'RUNNING');
      },
      180_000,
      500,
    );
  }

  /** A counter summed over the live workers' /metrics. */
  async metric(name: string): Promise<number> {
    let sum = 0;
    for (const worker of this.live) {
      const text = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
      for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
    }
    return sum;
  }

  /** Times any worker has joined the group so far. */
  joins(): number {
    return this.scenario.allOutput().split('"joined consumer group"').length - 1;
  }

  check(ok: boolean, failure: string): void {
    if (!ok) this.failures.push(failure);
  }

  async run(): Promise<NemesisReport> {
    const started = Date.now();
    const { scenario, settings } = this;
    await scenario.setUp(ACCOUNTS_SCHEMA);
    this.workload = new AccountsWorkload(scenario.db, random(settings.seed), 0.2);
    await this.workload.insert(1000);
    await scenario.startConnector('json');
    this.mappingName = `chaos-${this.nemesis.name}-${scenario.id}`;
    this.mapping = scenario.writeMapping('accounts.ts', accountsMapping(this.mappingName));
    this.throttle = await startThrottleProxy(stack.dynamoDbEndpoint);
    this.dynamo = await createProxy(`ferry-chaos-${scenario.id}`, 0, new URL(this.throttle.url).host);
    await Promise.all(Array.from({ length: this.nemesis.workers }, () => this.startWorker()));
    this.lag.start(scenario.topic(), `ferry.${this.mappingName}`);
    this.log(`${this.nemesis.workers} workers running; load at ${settings.rate} changes/s`);

    const stopLoad = new AbortController();
    const load = this.load(stopLoad.signal);
    try {
      await this.nemesis.act(this);
    } finally {
      stopLoad.abort();
      await load;
    }
    const healed = Date.now();
    this.log(`faults over after ${this.workload.changes} changes; waiting for the group to catch up`);
    await this.probe(600_000);
    await waitFor('consumer lag 0', async () => (await this.lag.read()) === 0, 300_000, 500);
    const recoverySeconds = (Date.now() - healed) / 1000;
    const freshnessMs = await this.probe(60_000);
    this.lag.stop();

    // Check 1: an independent scan of DynamoDB against the mapping applied to MariaDB's final rows.
    let diff = ['the scan never completed'];
    await waitFor(
      'DynamoDB to match the mapping of MariaDB',
      async () => {
        ({ diff } = await scenario.divergence(this.mapping, ACCOUNTS_SELECT, decodeAccount));
        return diff.length === 0;
      },
      60_000,
      1000,
    ).catch((err: Error) => {
      // A scan that kept failing proves nothing: it counts as divergence, with its error.
      if (diff[0] === 'the scan never completed') diff = [`the scan never completed: ${err.message}`];
    });
    // Check 2: ferry verify, the way an operator runs it.
    const verify = this.verify();
    const report: NemesisReport = {
      nemesis: this.nemesis.name,
      fault: this.nemesis.describe(this.short),
      short: this.short,
      seed: settings.seed,
      changes: this.workload.changes,
      faults: this.faults,
      redelivered: countRedeliveries(scenario.allOutput()),
      sourceDuplicates: await this.sourceDuplicates(),
      maxLag: this.lag.max,
      recoverySeconds,
      freshnessMs,
      deadLetters: await this.deadLetters(),
      divergent: diff.length,
      verifyDivergent: verify.divergent,
      verifyExit: verify.exit,
      verifyAgreed: verify.divergent === diff.length && (verify.exit === 0) === (diff.length === 0),
      figures: this.figures,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      failures: this.failures,
    };
    if (report.deadLetters > 0)
      this.failures.push(`${report.deadLetters} dead letters: no fault here is an item's fault`);
    if (diff.length > 0) this.failures.push(`${diff.length} divergent items, first: ${diff.slice(0, 5).join('\n')}`);
    if (!report.verifyAgreed)
      this.failures.push(`ferry verify (exit ${verify.exit}, ${verify.divergent} divergent) disagrees with the scan`);
    if (verify.exit !== 0) this.failures.push(`ferry verify exited ${verify.exit}: ${verify.output.slice(-2000)}`);
    return report;
  }

  async tearDown(): Promise<void> {
    this.tearingDown = true;
    await this.lag.close();
    this.throttle?.close().catch(() => undefined);
    await this.dynamo?.remove().catch(() => undefined);
    await this.scenario.tearDown();
  }

  /** The mixed workload at `rate` changes a second until stopped. */
  private async load(stop: AbortSignal): Promise<void> {
    const mix = random(this.settings.seed + 2);
    const perTick = Math.max(1, Math.round(this.settings.rate / 10));
    let tick = Date.now();
    while (!stop.aborted) {
      const target = this.workload.changes + perTick;
      while (this.workload.changes < target) {
        const roll = mix.int(100);
        if (roll < 3) await this.workload.transaction(3);
        else if (roll < 5) await this.workload.insert(10);
        else await this.workload.randomChange();
      }
      tick += 100;
      await sleep(Math.max(0, tick - Date.now()));
    }
  }

  /** Changes one row and waits until DynamoDB shows it: milliseconds from MariaDB to DynamoDB. */
  private async probe(timeoutMs: number): Promise<number> {
    const id = this.workload.ids[0];
    const balance = `${900_000 + ++this.probes}.25`;
    const started = Date.now();
    await this.scenario.db.query('UPDATE accounts SET balance = ?, updated_at = NOW(6) WHERE id = ?', [balance, id]);
    const key = { pk: `ACCOUNT#${id}`, sk: 'PROFILE' };
    for (let polls = 1; ; polls++) {
      const { Item } = await dynamoDb().doc.send(
        new GetCommand({ TableName: this.scenario.table, Key: key, ConsistentRead: true }),
      );
      if (Item !== undefined && String(Item.balance) === balance) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(`a change to account ${id} did not reach DynamoDB in ${timeoutMs} ms`);
      // A failed connector task never recovers by itself: say so rather than wait for the timeout.
      const failed = polls % 100 === 0 ? await this.scenario.connectorFailure() : undefined;
      if (failed) throw new Error(`the connector task failed: ${failed.slice(0, 1500)}`);
      await sleep(50);
    }
  }

  private verify(): { exit: number; divergent: number; output: string } {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), 'verify', '--mapping', this.mapping, '--json'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          FERRY_KAFKA_BROKERS: stack.kafkaBrokers.join(','),
          FERRY_KAFKA_TOPIC_PREFIX: this.scenario.connector?.prefix,
          FERRY_DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
          FERRY_SOURCE_URL: `mysql://ferry:ferry@127.0.0.1:${stack.mariadb.port}`,
          FERRY_LOG_LEVEL: 'error',
        },
      },
    );
    const output = `${result.stdout}${result.stderr}`;
    try {
      const report = JSON.parse(result.stdout) as { missing: number; extra: number; different: number };
      return { exit: result.status ?? -1, divergent: report.missing + report.extra + report.different, output };
    } catch {
      return { exit: result.status ?? -1, divergent: -1, output };
    }
  }

  private async deadLetters(): Promise<number> {
    const topic = deadLetterTopic(this.scenario.connector?.prefix ?? '', this.mappingName);
    if (!(await this.scenario.topics()).includes(topic)) return 0;
    return this.lag.messagesIn(topic);
  }

  /** Reads the change topic once: rows events (file, position, row, op) published more than once. */
  private async sourceDuplicates(): Promise<number> {
    const consumer = kafka().consumer({ groupId: `ferry-chaos-read-${this.scenario.id}` });
    const ends = new Map<number, bigint>();
    for (const p of await this.lag.offsets(this.scenario.topic())) if (p.high > p.low) ends.set(p.partition, p.high);
    const seen = new Set<string>();
    let duplicates = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.scenario.topic(), fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        if (ends.size === 0) return resolve();
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const value = message.value?.toString() ?? '';
              const source = /"source":\{[^}]*"file":"([^"]+)","pos":(\d+),"row":(\d+)/.exec(value);
              const op = /"op":"(\w)"/.exec(value)?.[1];
              if (source && op && op !== 'r') {
                const id = `${source[1]}:${source[2]}:${source[3]}:${op}`;
                if (seen.has(id)) duplicates++;
                else seen.add(id);
              }
              if (BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) ends.delete(partition);
              if (ends.size === 0) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return duplicates;
  }
}

/** The group's lag on the change topic, sampled every second while the trial runs. */
class LagMonitor {
  max = 0;
  private running = false;
  /** One connection at a time: read() asks for it twice at once. */
  private admin?: Promise<ReturnType<ReturnType<typeof kafka>['admin']>>;

  start(topic: string, groupId: string): void {
    this.topic = topic;
    this.groupId = groupId;
    this.running = true;
    void (async () => {
      while (this.running) {
        const lag = await this.read().catch(() => undefined);
        if (lag !== undefined) this.max = Math.max(this.max, lag);
        await sleep(1000);
      }
    })();
  }

  stop(): void {
    this.running = false;
  }

  async close(): Promise<void> {
    this.running = false;
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  private topic = '';
  private groupId = '';

  /** Messages not yet committed by the group, over all partitions; undefined while unknown. */
  async read(): Promise<number | undefined> {
    const [ends, committed] = await Promise.all([
      this.offsets(this.topic),
      this.connected().then((admin) => admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] })),
    ]);
    const at = new Map(committed[0]?.partitions.map((p) => [p.partition, BigInt(p.offset)]) ?? []);
    let lag = 0n;
    for (const { partition, low, high } of ends) {
      const offset = at.get(partition) ?? -1n;
      // A restarted coordinator answers "no offset" until it has loaded the group's commits.
      if (offset < 0n && this.committed.has(partition)) return undefined;
      if (offset >= 0n) this.committed.add(partition);
      lag += high - (offset >= 0n ? offset : low);
    }
    return Number(lag);
  }

  private readonly committed = new Set<number>();

  async offsets(topic: string): Promise<Array<{ partition: number; low: bigint; high: bigint }>> {
    const admin = await this.connected();
    try {
      return (await admin.fetchTopicOffsets(topic)).map((p) => ({
        partition: p.partition,
        low: BigInt(p.low),
        high: BigInt(p.high),
      }));
    } catch (err) {
      // A broker that restarted leaves the admin client's connection behind: start a new one.
      this.admin = undefined;
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async messagesIn(topic: string): Promise<number> {
    return (await this.offsets(topic)).reduce((sum, p) => sum + Number(p.high - p.low), 0);
  }

  private connected() {
    if (!this.admin) {
      const admin = kafka().admin();
      const connecting = admin.connect().then(() => admin);
      // A failed connect is tried anew next time.
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = undefined;
      });
      this.admin = connecting;
    }
    return this.admin;
  }
}

/** From the workers' "chunk received" debug lines: messages handed to a worker more than once. */
export function countRedeliveries(output: string): number {
  const seen = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.includes('"chunk received"')) continue;
    const { partition, first, last } = JSON.parse(line) as { partition: number; first: string; last: string };
    for (let offset = Number(first); offset <= Number(last); offset++) {
      const key = `${partition}:${offset}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  return [...seen.values()].filter((n) => n > 1).length;
}
