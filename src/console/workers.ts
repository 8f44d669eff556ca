import type { WorkerStatus } from '../observability/http-server';

/** What one worker's /status and /metrics said at one moment. */
export interface WorkerSample {
  url: string;
  atMs: number;
  status?: WorkerStatus;
  /** Sum of ferry_events_total over its labels. */
  eventsTotal?: number;
  freshness?: { sum: number; count: number };
  /** ferry_capture_heartbeat_age_seconds: since the connector's last heartbeat, as this worker saw it. */
  heartbeatAgeSeconds?: number;
  error?: string;
}

/** The few series the console shows, from Prometheus' text format. */
export function parseMetrics(text: string): Pick<WorkerSample, 'eventsTotal' | 'freshness' | 'heartbeatAgeSeconds'> {
  let eventsTotal: number | undefined;
  let heartbeatAgeSeconds: number | undefined;
  let sum: number | undefined;
  let count: number | undefined;
  for (const line of text.split('\n')) {
    const match =
      /^(ferry_events_total|ferry_freshness_seconds_sum|ferry_freshness_seconds_count|ferry_capture_heartbeat_age_seconds)(?:\{[^}]*\})? (\S+)/.exec(
        line,
      );
    if (!match) continue;
    const value = Number(match[2]);
    if (match[1] === 'ferry_events_total') eventsTotal = (eventsTotal ?? 0) + value;
    else if (match[1] === 'ferry_capture_heartbeat_age_seconds')
      heartbeatAgeSeconds = Math.min(heartbeatAgeSeconds ?? Infinity, value);
    else if (match[1] === 'ferry_freshness_seconds_sum') sum = (sum ?? 0) + value;
    else count = (count ?? 0) + value;
  }
  return {
    ...(eventsTotal !== undefined ? { eventsTotal } : {}),
    ...(sum !== undefined && count !== undefined ? { freshness: { sum, count } } : {}),
    ...(heartbeatAgeSeconds !== undefined ? { heartbeatAgeSeconds } : {}),
  };
}

/** Asks a worker for /status and /metrics; an unreachable worker is a sample with its error. */
export async function sampleWorker(url: string, timeoutMs = 2000): Promise<WorkerSample> {
  const atMs = Date.now();
  const base = url.replace(/\/+$/, '');
  try {
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`${path} answered ${res.status}`);
      return res.text();
    };
    const [status, metrics] = await Promise.all([get('/status'), get('/metrics')]);
    return { url: base, atMs, status: JSON.parse(status) as WorkerStatus, ...parseMetrics(metrics) };
  } catch (err) {
    return { url: base, atMs, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Per second between two samples; null when either is missing or no time passed. */
export function ratePerSecond(
  before: { atMs: number; value: number } | undefined,
  after: { atMs: number; value: number } | undefined,
): number | null {
  if (!before || !after || after.atMs <= before.atMs || after.value < before.value) return null;
  return ((after.value - before.value) * 1000) / (after.atMs - before.atMs);
}

/** A worker URL from a consumer-group member's host (kafkajs reports "/10.0.0.5") and the workers' HTTP port. */
export const workerUrlOf = (memberHost: string, port: number) => {
  const host = memberHost.replace(/^\//, '');
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
};
