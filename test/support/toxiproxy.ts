/** The local stack's Toxiproxy (scripts/stack.sh), through its HTTP API. */
const API = `http://127.0.0.1:${process.env.FERRY_TOXIPROXY_PORT ?? '8474'}`;

export interface Toxic {
  type: 'latency' | 'timeout' | 'reset_peer' | 'bandwidth' | 'slow_close' | 'limit_data';
  stream: 'upstream' | 'downstream';
  attributes: Record<string, number>;
}

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${API}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`Toxiproxy is not answering on ${API} (scripts/stack.sh up starts it)`, { cause: err });
  }
  const text = await response.text();
  if (!response.ok && !(method === 'DELETE' && response.status === 404))
    throw new Error(`Toxiproxy ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export interface Proxy {
  readonly url: string;
  addToxic(name: string, toxic: Toxic): Promise<void>;
  removeToxic(name: string): Promise<void>;
  /** Disabling closes every connection through the proxy and refuses new ones until enabled again. */
  setEnabled(enabled: boolean): Promise<void>;
  remove(): Promise<void>;
}

/** A fresh proxy from 127.0.0.1:`listenPort` (0: any free port) to `upstream` (host:port), replacing any of that name. */
export async function createProxy(name: string, listenPort: number, upstream: string): Promise<Proxy> {
  await call('DELETE', `/proxies/${name}`);
  const { listen } = (await call('POST', '/proxies', {
    name,
    listen: `127.0.0.1:${listenPort}`,
    upstream,
    enabled: true,
  })) as { listen: string };
  return {
    url: `http://${listen}`,
    addToxic: (toxicName, toxic) => ignore(call('POST', `/proxies/${name}/toxics`, { name: toxicName, ...toxic })),
    removeToxic: (toxicName) => ignore(call('DELETE', `/proxies/${name}/toxics/${toxicName}`)),
    setEnabled: (enabled) => ignore(call('POST', `/proxies/${name}`, { enabled })),
    remove: () => ignore(call('DELETE', `/proxies/${name}`)),
  };
}

const ignore = async (answer: Promise<unknown>) => void (await answer);
