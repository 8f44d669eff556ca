import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../config/config';
import type { ChangeEvent } from '../core/change-event';
import { ConfigError, describe } from '../core/errors';
import type { WriteIntent } from '../core/write-intent';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { applyMapping, preparedKey } from '../mapping/apply-mapping';
import type { Mapping } from '../mapping/define-mapping';
import { loadMapping } from '../mapping/load-mapping';
import type { BlockedPartition } from '../observability/http-server';
import { appliedKeyText, appliedTopic } from '../pipeline/applied-log';
import { deadLetterTopic } from '../pipeline/dead-letters';
import { createDynamoDbClient } from '../sink/dynamodb/client';
import type { AttributeMap } from '../core/write-intent';
import { type LetterOutcome, type RedriveReport, runDeadLetters } from '../pipeline/redrive';
import { createDecoder } from '../source/debezium/create-decoder';
import { recordAudit } from '../source/kafka/audit';
import { type GroupMember, type PartitionOffsets, groupMembers, groupOffsets } from '../source/kafka/offsets';
import { topicFor } from '../source/debezium/connector-config';
import { groupFor } from '../worker';
import { CONSOLE_ACTIONS, type ConsoleAuditDetail, LetterCounts, LetterStates } from './follow';
import {
  type Cursor,
  type LetterFilter,
  type LetterRow,
  matches,
  parseLetterId,
  readLetter,
  readPage,
  scanLetters,
} from './letters';
import { type ItemHistoryEntry, itemHistory } from './item-history';
import { type WorkerSample, ratePerSecond, sampleWorker, workerUrlOf } from './workers';

/** A mapping module of the directory: loaded, or the reason it is not. */
export interface MappingEntry {
  name: string;
  path: string;
  mapping?: Mapping;
  error?: string;
  topic?: string;
  group?: string;
  dlqTopic?: string;
}

export interface MappingOverview {
  entry: MappingEntry;
  error?: string;
  members: GroupMember[];
  partitions: PartitionOffsets[];
  totalLag: number | null;
  /** Changes per second, from the workers' ferry_events_total or else from committed offsets. */
  eventsPerSecond: number | null;
  eventsFrom: 'workers' | 'offsets' | null;
  /** Mean source-commit-to-DynamoDB-ack seconds of the changes written since the last sample. */
  freshnessSeconds: number | null;
  /** Since the connector's last heartbeat, the freshest a worker saw; null when no worker says. */
  heartbeatAgeSeconds: number | null;
  letters: { total: number; failedAgain: number; byClass: Array<{ errorClass: string; count: number; last: string }> };
  blocked: Array<BlockedPartition & { worker: string }>;
  workers: Array<{ url: string; error?: string }>;
}

/** Why an item looks as it does: what the table holds now, and the changes the log says wrote it. */
export interface ItemView {
  key: Record<string, unknown>;
  topic: string;
  /** The applied-changes log is off for this mapping: no topic. */
  off?: boolean;
  current?: AttributeMap | null;
  entries: ItemHistoryEntry[];
  total: number;
}

/** Which letters an action is about: listed ones, or every one matching a filter. */
export type Selection = { kind: 'ids'; ids: string[] } | { kind: 'filter'; filter: LetterFilter };

export interface LetterDryRun {
  decoded?: ChangeEvent | { skip: string };
  intents?: WriteIntent[];
  error?: string;
}

export interface ActionResult {
  letters: Array<{ id: string; outcome: string }>;
  total: number;
  report?: RedriveReport;
  error?: string;
}

/** How many letters an action result lists (the counts cover all). */
const LISTED = 200;
/** Letters per audit entry, well under a Kafka record's size limit. */
const AUDIT_CHUNK = 500;

export const describeOutcome = (outcome: LetterOutcome) =>
  Object.entries(outcome)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ') || 'nothing';

/** What the console reads and does, for every mapping of a directory; holds counts and states, never letters. */
export class ConsoleData {
  readonly states: LetterStates;
  private readonly counts = new Map<string, LetterCounts>();
  private readonly lastSample = new Map<string, { atMs: number; events?: number; committed?: number }>();
  private readonly lastWorkerSample = new Map<string, WorkerSample>();

  constructor(
    readonly config: Config,
    private readonly kafka: Kafka,
    private readonly options: { mappingsDir: string; workers?: string[]; workerPort: number; pageSize: number },
  ) {
    this.states = new LetterStates(kafka, config.kafka.topicPrefix);
  }

  /** Every mapping module in the directory, read from disk now (a fixed mapping is seen at once). */
  async mappings(): Promise<MappingEntry[]> {
    const dir = this.options.mappingsDir;
    if (!existsSync(dir)) throw new ConfigError(`mappings directory ${dir} not found (--mappings)`);
    const files = readdirSync(dir)
      .filter((f) => /\.(ts|js)$/.test(f) && !/\.(test|spec|d)\.[tj]s$/.test(f))
      .sort();
    return Promise.all(files.map((f) => this.load(join(dir, f))));
  }

  private async load(path: string): Promise<MappingEntry> {
    const fileName = path.replace(/^.*\//, '').replace(/\.(ts|js)$/, '');
    try {
      const mapping = await loadMapping(path, { fresh: true });
      const { topicPrefix } = this.config.kafka;
      return {
        name: mapping.name,
        path,
        mapping,
        topic: topicFor(topicPrefix, mapping),
        group: groupFor(this.config, mapping),
        dlqTopic: deadLetterTopic(topicPrefix, mapping.name),
      };
    } catch (err) {
      return { name: fileName, path, error: describe(err) };
    }
  }

  /** The mapping named so, loaded; a ConfigError names the known ones otherwise. */
  async mapping(name: string): Promise<Required<Pick<MappingEntry, 'mapping' | 'dlqTopic'>> & MappingEntry> {
    const all = await this.mappings();
    const entry = all.find((m) => m.name === name);
    if (!entry)
      throw new ConfigError(
        `no mapping "${name}" in ${this.options.mappingsDir} (known: ${all.map((m) => m.name).join(', ')})`,
      );
    if (!entry.mapping || !entry.dlqTopic) throw new ConfigError(`mapping "${name}" does not load: ${entry.error}`);
    return entry as Required<Pick<MappingEntry, 'mapping' | 'dlqTopic'>> & MappingEntry;
  }

  private letterCounts(entry: { name: string; dlqTopic: string }): LetterCounts {
    let counts = this.counts.get(entry.name);
    if (!counts || counts.follower.topic !== entry.dlqTopic) {
      counts = new LetterCounts(this.kafka, entry.dlqTopic);
      this.counts.set(entry.name, counts);
    }
    return counts;
  }

  private async workerSamples(members: GroupMember[]): Promise<WorkerSample[]> {
    const urls = this.options.workers ?? [...new Set(members.map((m) => workerUrlOf(m.host, this.options.workerPort)))];
    return Promise.all(urls.map((url) => sampleWorker(url)));
  }

  async overview(): Promise<MappingOverview[]> {
    const entries = await this.mappings();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await Promise.all(entries.map((entry) => this.overviewOf(entry, admin)));
    } finally {
      await admin.disconnect();
    }
  }

  private async overviewOf(entry: MappingEntry, admin: ReturnType<Kafka['admin']>): Promise<MappingOverview> {
    const empty: MappingOverview = {
      entry,
      members: [],
      partitions: [],
      totalLag: null,
      eventsPerSecond: null,
      eventsFrom: null,
      freshnessSeconds: null,
      heartbeatAgeSeconds: null,
      letters: { total: 0, failedAgain: 0, byClass: [] },
      blocked: [],
      workers: [],
    };
    if (!entry.mapping || !entry.topic || !entry.group || !entry.dlqTopic) return { ...empty, error: entry.error };
    const { topic, group, dlqTopic } = entry;
    try {
      const topics = await admin.listTopics();
      const counts = this.letterCounts({ name: entry.name, dlqTopic });
      const [members, partitions] = await Promise.all([
        groupMembers(admin, group),
        topics.includes(topic) ? groupOffsets(admin, group, topic) : Promise.resolve([]),
        counts.follower.catchUp(),
      ]);
      const samples = (await this.workerSamples(members)).filter(
        (s) => s.error !== undefined || s.status?.mapping === entry.name,
      );
      const now = Date.now();
      const live = samples.filter((s) => s.error === undefined);
      const events = live.length > 0 ? live.reduce((sum, s) => sum + (s.eventsTotal ?? 0), 0) : undefined;
      const committed = partitions.every((p) => p.committed !== null)
        ? partitions.reduce((sum, p) => sum + Number(p.committed), 0)
        : undefined;
      const previous = this.lastSample.get(entry.name);
      this.lastSample.set(entry.name, { atMs: now, events, committed });
      const at = (value: number | undefined, atMs: number) => (value === undefined ? undefined : { atMs, value });
      const fromWorkers = ratePerSecond(at(previous?.events, previous?.atMs ?? 0), at(events, now));
      const fromOffsets = ratePerSecond(at(previous?.committed, previous?.atMs ?? 0), at(committed, now));
      return {
        ...empty,
        members,
        partitions,
        totalLag: partitions.length > 0 ? partitions.reduce((sum, p) => sum + p.lag, 0) : null,
        eventsPerSecond: fromWorkers ?? fromOffsets,
        eventsFrom: fromWorkers !== null ? 'workers' : fromOffsets !== null ? 'offsets' : null,
        freshnessSeconds: this.freshness(live),
        heartbeatAgeSeconds: live.reduce<number | null>(
          (min, s) => (s.heartbeatAgeSeconds === undefined ? min : Math.min(min ?? Infinity, s.heartbeatAgeSeconds)),
          null,
        ),
        letters: {
          total: counts.total,
          failedAgain: counts.failedAgain,
          byClass: [...counts.byClass].map(([errorClass, c]) => ({ errorClass, ...c })),
        },
        blocked: live.flatMap((s) => (s.status?.blocked ?? []).map((b) => ({ ...b, worker: s.url }))),
        workers: samples.map((s) => ({ url: s.url, ...(s.error !== undefined ? { error: s.error } : {}) })),
      };
    } catch (err) {
      return { ...empty, error: describe(err) };
    }
  }

  /** Mean freshness of what the workers wrote since their previous sample; null when nothing was. */
  private freshness(samples: WorkerSample[]): number | null {
    let sum = 0;
    let count = 0;
    for (const s of samples) {
      const before = this.lastWorkerSample.get(s.url)?.freshness;
      this.lastWorkerSample.set(s.url, s);
      if (!s.freshness || !before) continue;
      sum += s.freshness.sum - before.sum;
      count += s.freshness.count - before.count;
    }
    return count > 0 ? sum / count : null;
  }

  async page(name: string, filter: LetterFilter, from: Cursor | undefined) {
    const entry = await this.mapping(name);
    await this.states.follower.catchUp();
    return readPage(this.kafka, entry.dlqTopic, {
      filter,
      from,
      limit: this.options.pageSize,
      stateOf: (id) => this.states.nameOf(name, id),
    });
  }

  async letter(name: string, id: string): Promise<{ letter: LetterRow; dryRun: LetterDryRun } | undefined> {
    const entry = await this.mapping(name);
    let raw: Buffer | null = null;
    const letter = await readLetter(this.kafka, entry.dlqTopic, parseLetterId(id), (m) => (raw = m.value));
    if (!letter) return undefined;
    await this.states.follower.catchUp();
    return { letter, dryRun: await this.dryRun(entry.mapping, letter, raw) };
  }

  /** An item by the key the mapping gives it (JSON): the table's item now and the log's records of it. */
  async item(name: string, keyJson: string): Promise<ItemView> {
    const { mapping } = await this.mapping(name);
    let key: Record<string, unknown>;
    try {
      key = JSON.parse(keyJson) as Record<string, unknown>;
    } catch {
      throw new ConfigError(
        `key ${keyJson} is not JSON: give the item key as the mapping returns it, e.g. {"pk":"A#1"}`,
      );
    }
    let keyAttributes: AttributeMap;
    try {
      keyAttributes = preparedKey(mapping, key);
    } catch (err) {
      throw new ConfigError(`key ${keyJson} is not a key of ${mapping.targetTable}: ${describe(err)}`);
    }
    const topic = appliedTopic(this.config.kafka.topicPrefix, mapping.name);
    const admin = this.kafka.admin();
    await admin.connect();
    const exists = await admin.listTopics().finally(() => admin.disconnect());
    const dynamo = createDynamoDbClient(this.config.dynamodb);
    try {
      const { Item } = await dynamo.send(
        new GetItemCommand({ TableName: mapping.targetTable, Key: keyAttributes, ConsistentRead: true }),
      );
      const view = { key, topic, current: Item ?? null, entries: [], total: 0 };
      if (!exists.includes(topic)) return { ...view, off: true };
      return { ...view, ...(await itemHistory(this.kafka, topic, appliedKeyText(mapping, keyAttributes))) };
    } finally {
      dynamo.destroy();
    }
  }

  /** What the current mapping makes of a letter now: decode + applyMapping, nothing written. */
  async dryRun(mapping: Mapping, letter: LetterRow, value: Buffer | null): Promise<LetterDryRun> {
    const out: LetterDryRun = {};
    try {
      const decoded = await createDecoder(this.config).decode(value, letter.origin);
      if (decoded.kind === 'skip') return { decoded: { skip: decoded.reason } };
      out.decoded = decoded.event;
      out.intents = applyMapping(mapping, decoded.event, this.config.pipeline);
    } catch (err) {
      out.error = describe(err);
    }
    return out;
  }

  /** Hands each selected letter (raw, as the topic holds it) to `each`, in topic order. */
  private async feed(
    name: string,
    dlqTopic: string,
    selection: Selection,
    each: (letter: LetterRow, message: KafkaMessage) => Promise<void>,
  ): Promise<void> {
    if (selection.kind === 'filter') {
      await this.states.follower.catchUp();
      await scanLetters(this.kafka, dlqTopic, undefined, async (letter, message) => {
        if (matches(letter, this.states.nameOf(name, letter.id), selection.filter)) await each(letter, message);
        return true;
      });
      return;
    }
    const ids = [...new Set(selection.ids)]
      .map((id) => parseLetterId(id))
      .sort((a, b) =>
        a.partition !== b.partition ? a.partition - b.partition : Number(BigInt(a.offset) - BigInt(b.offset)),
      );
    for (const at of ids) {
      let found: KafkaMessage | undefined;
      const letter = await readLetter(this.kafka, dlqTopic, at, (m) => (found = m));
      if (!letter || !found)
        throw new ConfigError(`dead letter ${at.partition}/${at.offset} is no longer in ${dlqTopic}`);
      await each(letter, found);
    }
  }

  /** Retries the selection through the redrive's path; a dry run writes and records nothing. */
  async retry(name: string, selection: Selection, options: { dryRun: boolean; who: string }): Promise<ActionResult> {
    const entry = await this.mapping(name);
    const result: ActionResult = { letters: [], total: 0 };
    const done: Array<{ letter: string; outcome: string }> = [];
    if (!options.dryRun) await this.audit(entry, `${CONSOLE_ACTIONS.retry}.requested`, options.who, { selection });
    try {
      result.report = await runDeadLetters(
        this.kafka,
        this.config,
        entry.mapping,
        {
          dryRun: options.dryRun,
          onLetter: (letter, outcome) => {
            const id = `${letter.partition}/${letter.offset}`;
            result.total++;
            if (result.letters.length < LISTED) result.letters.push({ id, outcome: describeOutcome(outcome) });
            done.push({ letter: id, outcome: describeOutcome(outcome) });
          },
        },
        (run) => this.feed(name, entry.dlqTopic, selection, (letter, message) => run(letter.partition, message)),
      );
    } catch (err) {
      result.error = describe(err);
    } finally {
      if (!options.dryRun) await this.auditLetters(entry, CONSOLE_ACTIONS.retry, options.who, done, result.error);
    }
    return result;
  }

  /** Marks the selection resolved without running it; a dry run only lists it. */
  async resolve(name: string, selection: Selection, options: { dryRun: boolean; who: string }): Promise<ActionResult> {
    const entry = await this.mapping(name);
    const result: ActionResult = { letters: [], total: 0 };
    const done: Array<{ letter: string; outcome: string }> = [];
    await this.feed(name, entry.dlqTopic, selection, async (letter) => {
      result.total++;
      if (result.letters.length < LISTED) result.letters.push({ id: letter.id, outcome: 'resolved' });
      done.push({ letter: letter.id, outcome: 'resolved' });
    });
    if (!options.dryRun) await this.auditLetters(entry, CONSOLE_ACTIONS.resolve, options.who, done);
    return result;
  }

  private async auditLetters(
    entry: MappingEntry & { dlqTopic: string },
    action: string,
    who: string,
    letters: Array<{ letter: string; outcome: string }>,
    error?: string,
  ): Promise<void> {
    for (let i = 0; i === 0 || i < letters.length; i += AUDIT_CHUNK) {
      const detail: ConsoleAuditDetail & { error?: string } = {
        mapping: entry.name,
        letters: letters.slice(i, i + AUDIT_CHUNK),
        ...(error ? { error } : {}),
      };
      await this.audit(entry, action, who, detail);
    }
  }

  private audit(entry: MappingEntry & { dlqTopic: string }, action: string, who: string, detail: object) {
    return recordAudit(this.kafka, this.config.kafka.topicPrefix, {
      action,
      group: entry.group ?? '',
      topic: entry.dlqTopic,
      detail: { mapping: entry.name, ...detail },
      who,
    });
  }
}
