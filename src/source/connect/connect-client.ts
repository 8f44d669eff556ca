import { ConfigError, FerryError, RefusedError } from '../../core/errors';

/** A connector's or a task's state, as Kafka Connect reports it. */
export type ConnectorState = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING';

export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectorState; trace?: string };
  tasks: Array<{ id: number; state: ConnectorState; trace?: string }>;
}

/** Kafka Connect did not answer, or answered with an error. */
export class ConnectError extends FerryError {}

/** The Kafka Connect REST calls ferry makes; a port, so commands are tested without Connect. */
export interface ConnectApi {
  readonly url: string;
  connectors(): Promise<string[]>;
  /** Topics the connector has written to since it was created (Connect's topic tracking). */
  topics(name: string): Promise<string[]>;
  status(name: string): Promise<ConnectorStatus>;
  /** Creates the connector, or replaces its config (PUT /connectors/<name>/config). */
  apply(name: string, config: Record<string, string>): Promise<void>;
  stop(name: string): Promise<void>;
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
}

/** A small client of the Kafka Connect REST API (fetch, JSON, errors that name the call). */
export function connectClient(url: string, requestTimeoutMs = 10_000): ConnectApi {
  const base = url.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (err) {
      throw new ConnectError(
        `cannot reach Kafka Connect at ${base} (${method} ${path}): ${(err as Error).message} (check FERRY_CONNECT_URL)`,
        { cause: err },
      );
    }
    const text = await res.text();
    if (res.status === 404) throw new ConfigError(`Kafka Connect at ${base}: ${method} ${path} not found: ${text}`);
    if (!res.ok) throw new ConnectError(`Kafka Connect at ${base}: ${method} ${path} answered ${res.status}: ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  const path = (name: string, rest = '') => `/connectors/${encodeURIComponent(name)}${rest}`;
  return {
    url: base,
    connectors: async () => (await call('GET', '/connectors')) as string[],
    topics: async (name) => {
      const body = (await call('GET', path(name, '/topics'))) as Record<string, { topics?: string[] }>;
      return body[name]?.topics ?? [];
    },
    status: async (name) => (await call('GET', path(name, '/status'))) as ConnectorStatus,
    apply: async (name, config) => void (await call('PUT', path(name, '/config'), config)),
    stop: async (name) => {
      try {
        await call('PUT', path(name, '/stop'));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        throw new ConnectError(`${err.message} (stopping a connector needs Kafka Connect 3.5 or later)`, {
          cause: err,
        });
      }
    },
    pause: async (name) => void (await call('PUT', path(name, '/pause'))),
    resume: async (name) => void (await call('PUT', path(name, '/resume'))),
  };
}

/** The connector and every task in `state` (a stopped connector has no tasks). */
export function isIn(status: ConnectorStatus, state: ConnectorState): boolean {
  if (status.connector.state !== state) return false;
  if (state === 'STOPPED') return true;
  return status.tasks.length > 0 && status.tasks.every((t) => t.state === state);
}

/** One line: the connector's state and its tasks'. */
export function describeStatus(status: ConnectorStatus): string {
  const tasks = status.tasks.map((t) => `task ${t.id} ${t.state}`).join(', ');
  return `${status.connector.state}${tasks ? ` (${tasks})` : ''}`;
}

/**
 * Waits until the connector and its tasks report `state`. A task that fails meanwhile ends the
 * wait with its trace: it will not get there by itself.
 */
export async function waitForState(
  connect: Pick<ConnectApi, 'status'>,
  name: string,
  state: ConnectorState,
  options: { timeoutMs: number; intervalMs?: number; sleep?: (ms: number) => Promise<void> },
): Promise<ConnectorStatus> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const status = await connect.status(name);
    if (isIn(status, state)) return status;
    const failed = [status.connector, ...status.tasks].find((s) => s.state === 'FAILED');
    if (failed && state !== 'FAILED')
      throw new ConnectError(
        `connector ${name} failed while ferry waited for ${state}: ${failed.trace?.split('\n')[0] ?? 'no trace'}`,
      );
    if (Date.now() >= deadline)
      throw new ConnectError(
        `connector ${name} did not reach ${state} within ${Math.round(options.timeoutMs / 1000)} s: it is ${describeStatus(status)}`,
      );
    await sleep(options.intervalMs ?? 500);
  }
}

/**
 * Waits until a connector just created runs. Connect answers 404 for a new connector's status
 * until it has written the first one: that is "not yet", not an error.
 */
export function waitForNewConnector(
  connect: Pick<ConnectApi, 'status'>,
  name: string,
  timeoutMs: number,
  sleep?: (ms: number) => Promise<void>,
): Promise<ConnectorStatus> {
  const pending: ConnectorStatus = { name, connector: { state: 'UNASSIGNED' }, tasks: [] };
  const status = (n: string) =>
    connect.status(n).catch((err: unknown) => (err instanceof ConfigError ? pending : Promise.reject(err)));
  return waitForState({ status }, name, 'RUNNING', { timeoutMs, ...(sleep ? { sleep } : {}) });
}

/**
 * The one connector that writes `topic`: `named` when given (it must exist), else the connector
 * whose tracked topics include it. None or several is a refusal: ferry must know what to stop.
 */
export async function findConnector(connect: ConnectApi, topic: string, named?: string): Promise<string> {
  if (named) {
    const known = await connect.connectors();
    if (!known.includes(named))
      throw new ConfigError(
        `Kafka Connect at ${connect.url} has no connector "${named}" (it has: ${known.join(', ') || 'none'})`,
      );
    return named;
  }
  const names = await connect.connectors();
  const writers: string[] = [];
  for (const name of names) if ((await connect.topics(name)).includes(topic)) writers.push(name);
  if (writers.length === 1) return writers[0] as string;
  if (writers.length === 0)
    throw new RefusedError(
      `no connector of Kafka Connect at ${connect.url} lists ${topic} among the topics it writes (of ${names.length}: ${names.join(', ') || 'none'}); name it with --connector <name>`,
    );
  throw new RefusedError(
    `${writers.length} connectors write ${topic}: ${writers.join(', ')}; every writer must be stopped, so ferry refuses; stop the others, then name one with --connector <name>`,
  );
}
