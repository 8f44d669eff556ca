import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { describe } from '../core/errors';
import type { FerryEvents } from '../core/events';

export interface Probes {
  /** The process is alive and not wedged. */
  live: () => boolean;
  /** Joined the consumer group and able to write. */
  ready: () => boolean;
}

/**
 * Probes from the consumer's state: ready once it has joined its group, not while it is crashed
 * (kafkajs may restart it: ready again once it has rejoined), and not even live once `fail()`
 * says it is gone for good, so that an orchestrator restarts the process.
 */
export function consumerProbes(events: FerryEvents): Probes & { fail: () => void } {
  let joined = false;
  let crashed = false;
  let failed = false;
  events.on('consumer.state', ({ state }) => {
    if (state === 'joined') [joined, crashed] = [true, false];
    if (state === 'crashed') crashed = true;
    if (state === 'stopped') joined = false;
  });
  return {
    live: () => !failed,
    ready: () => joined && !crashed && !failed,
    fail: () => void (failed = true),
  };
}

export interface BlockedPartition {
  topic: string;
  partition: number;
  /** When the block began, ISO-8601. */
  since: string;
  error: string;
  key?: Record<string, unknown>;
}

/** What `/status` answers: which mapping and group this worker runs, and its blocked partitions. */
export interface WorkerStatus {
  mapping: string;
  group: string;
  topic: string;
  blocked: BlockedPartition[];
}

/** The partitions blocked now, from the partition.blocked / partition.unblocked events. */
export function blockedPartitions(events: FerryEvents): () => BlockedPartition[] {
  const blocked = new Map<string, BlockedPartition>();
  events.on('partition.blocked', ({ topic, partition, sinceMs, error, key }) =>
    blocked.set(`${topic}\u0000${partition}`, {
      topic,
      partition,
      since: new Date(sinceMs).toISOString(),
      error: describe(error),
      ...(key ? { key } : {}),
    }),
  );
  events.on('partition.unblocked', ({ topic, partition }) => blocked.delete(`${topic}\u0000${partition}`));
  return () => [...blocked.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** /metrics for Prometheus, /healthz and /readyz for orchestrators, /status (JSON) for `ferry console`. */
export async function startHttpServer(
  host: string,
  port: number,
  registry: Registry,
  probes: Probes,
  status?: () => WorkerStatus,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/status' && status) {
      // An item key may hold a BIGINT column.
      const body = JSON.stringify(status(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else if (path === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    } else if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? probes.live() : probes.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
