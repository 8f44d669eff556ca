/**
 * An HTTP proxy in front of DynamoDB that answers a share of writes with a throttle, as DynamoDB
 * does, and records every call it forwards as the IAM actions it needs, per table.
 */
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
  /** Each forwarded call as IAM authorizes it: a transaction is the actions it holds. */
  readonly calls: IamCall[];
  close(): Promise<void>;
}

export interface IamCall {
  action: string;
  table: string;
}

type Body = {
  TableName?: string;
  RequestItems?: Record<string, unknown>;
  TransactItems?: Array<Record<string, { TableName?: string }>>;
};
const inTransaction: Record<string, string> = {
  Put: 'PutItem',
  Delete: 'DeleteItem',
  Update: 'UpdateItem',
  ConditionCheck: 'ConditionCheckItem',
};

/** The IAM actions (`dynamodb:*`) a DynamoDB request needs, per table. */
export function iamCalls(target: string, body: Body): IamCall[] {
  const operation = target.replace(/^DynamoDB_\d+\./, '');
  const action = (name: string) => `dynamodb:${name}`;
  if (body.TransactItems)
    return body.TransactItems.flatMap((item) =>
      Object.entries(item).map(([kind, request]) => ({
        action: action(inTransaction[kind] ?? kind),
        table: request.TableName ?? '',
      })),
    );
  if (body.RequestItems) return Object.keys(body.RequestItems).map((table) => ({ action: action(operation), table }));
  return [{ action: action(operation), table: body.TableName ?? '' }];
}

/** Toxiproxy works on bytes and cannot answer with a DynamoDB error, hence this proxy. */
export async function startThrottleProxy(upstream: string, ratio = 0, port = 0): Promise<ThrottleProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  let throttled = 0;
  const calls: IamCall[] = [];
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
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      forward.write(chunk);
    });
    req.on('end', () => {
      forward.end();
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target) calls.push(...iamCalls(target, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Body));
    });
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
    calls,
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
