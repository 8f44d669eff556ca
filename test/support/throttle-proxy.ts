/** An HTTP proxy in front of DynamoDB that answers a share of writes with a throttle, as DynamoDB does. */
import { Agent, type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const WRITES = /PutItem|DeleteItem|TransactWriteItems|BatchWriteItem/;
const THROTTLE = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded.',
});

export interface ThrottleProxy {
  readonly url: string;
  /** The share of writes answered with a throttle from now on, 0 to 1. */
  ratio: number;
  /** Throttles answered so far. */
  readonly throttled: number;
  close(): Promise<void>;
}

/** Toxiproxy works on bytes and cannot answer with a DynamoDB error, hence this proxy. */
export async function startThrottleProxy(upstream: string, ratio = 0, port = 0): Promise<ThrottleProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  let throttled = 0;
  const state = { ratio };
  const server: Server = createServer((req, res) => {
    if (state.ratio > 0 && WRITES.test(String(req.headers['x-amz-target'])) && Math.random() < state.ratio) {
      throttled++;
      req.resume();
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(THROTTLE);
      return;
    }
    const forward = request(
      { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    // A broken upstream connection reaches the client as a broken connection, not as an answer.
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get ratio() {
      return state.ratio;
    },
    set ratio(r: number) {
      state.ratio = r;
    },
    get throttled() {
      return throttled;
    },
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
