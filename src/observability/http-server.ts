import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';
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

/** /metrics for Prometheus, /healthz and /readyz for orchestrators. */
export async function startHttpServer(host: string, port: number, registry: Registry, probes: Probes): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
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
