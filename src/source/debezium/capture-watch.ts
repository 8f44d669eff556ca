import type { Admin } from 'kafkajs';
import { describe } from '../../core/errors';
import type { FerryEvents } from '../../core/events';
import type { Logger } from '../../observability/logger';

/** No heartbeat for this long: capture has probably stopped (the worker logs it, the console shows it). */
export const CAPTURE_QUIET_MS = 180_000;

export interface CaptureWatchOptions {
  /** The connector's heartbeat topic (heartbeatTopic). */
  topic: string;
  /** How often the topic's end offsets are read. */
  pollMs?: number;
  /** No heartbeat for this long is logged as a stopped capture. */
  quietMs?: number;
}

/**
 * Whether Debezium is still capturing, from its heartbeat topic. A connector that stopped (a DDL
 * statement its parser refuses, a lost binlog position, a failed task) writes nothing, and
 * neither does a quiet table: a worker cannot tell the two apart from its own topic, so ferry
 * watches the connector's heartbeats, which it writes every 10 s while the binlog moves and, while
 * the server is idle, on each of the server's binlog heartbeats (every 48 s on the local MariaDB).
 * Each time the topic's end offsets grow, a heartbeat was written: `capture.heartbeat` says when,
 * which the metrics turn into ferry_capture_heartbeat_age_seconds. The age counts from the
 * worker's start until the first heartbeat it sees.
 */
export class CaptureWatch {
  private readonly pollMs: number;
  private readonly quietMs: number;
  private admin?: Admin;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private ends?: string;
  private seenAtMs = Date.now();
  private saidQuiet = false;
  private saidMissing = false;

  constructor(
    private readonly newAdmin: () => Admin,
    private readonly options: CaptureWatchOptions,
    private readonly logger: Logger,
    private readonly events: FerryEvents,
  ) {
    this.pollMs = options.pollMs ?? 15_000;
    this.quietMs = options.quietMs ?? CAPTURE_QUIET_MS;
  }

  start(): void {
    this.events.emit('capture.heartbeat', { topic: this.options.topic, seenAtMs: this.seenAtMs });
    const poll = () =>
      void this.poll().finally(() => {
        if (!this.closed) this.timer = setTimeout(poll, this.pollMs).unref();
      });
    this.timer = setTimeout(poll, 0).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** Reads the heartbeat topic's end offsets once. */
  private async poll(): Promise<void> {
    const { topic } = this.options;
    let ends: string;
    try {
      if (!this.admin) {
        this.admin = this.newAdmin();
        await this.admin.connect();
      }
      if (this.closed) return void (await this.admin.disconnect());
      // Asked first: kafkajs retries a missing topic's offsets for seconds, logging each answer as an error.
      if (!(await this.admin.listTopics()).includes(topic)) return this.missing();
      ends = (await this.admin.fetchTopicOffsets(topic))
        .map((p) => `${p.partition}:${p.high}`)
        .sort()
        .join(',');
    } catch (err) {
      // Unread is not stopped: judged at the next read (the worker says what keeps Kafka away).
      this.logger.debug({ topic, err: describe(err) }, 'reading the heartbeat topic failed');
      await this.admin?.disconnect().catch(() => undefined);
      this.admin = undefined;
      return;
    }
    if (this.ends !== undefined && ends !== this.ends) {
      this.seenAtMs = Date.now();
      this.events.emit('capture.heartbeat', { topic, seenAtMs: this.seenAtMs });
    }
    this.ends = ends;
    this.judge();
  }

  /** Without the topic nothing can be judged: said once; the age goes on growing, for the alert. */
  private missing(): void {
    if (this.saidMissing) return;
    this.saidMissing = true;
    this.logger.warn(
      { topic: this.options.topic },
      `the connector's heartbeat topic ${this.options.topic} does not exist: ferry cannot tell a stopped connector from a quiet table until it does (the connector needs heartbeat.interval.ms, which ferry connector sets, and the default topic.heartbeat.prefix)`,
    );
  }

  private judge(): void {
    const quietMs = Date.now() - this.seenAtMs;
    if (quietMs >= this.quietMs && !this.saidQuiet) {
      this.saidQuiet = true;
      this.logger.error(
        { topic: this.options.topic, quietSeconds: Math.round(quietMs / 1000) },
        `the Debezium connector has written no heartbeat for ${Math.round(quietMs / 1000)} s: capture has probably stopped, and no change reaches ferry. Look at the connector status in Kafka Connect (GET /connectors/<name>/status): a failed task names its cause (README runbook "The connector stopped")`,
      );
    } else if (quietMs < this.quietMs && this.saidQuiet) {
      this.saidQuiet = false;
      this.logger.info({ topic: this.options.topic }, 'the Debezium connector writes heartbeats again');
    }
  }
}
