/** A Pushgateway stand-in on 127.0.0.1: records each request and answers with `status`. */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Pushed {
  method: string;
  path: string;
  authorization?: string;
  body: string;
}

export interface FakePushgateway {
  url: string;
  pushes: Pushed[];
  status: number;
  close: () => Promise<void>;
}

export async function fakePushgateway(): Promise<FakePushgateway> {
  const gateway = { pushes: [] as Pushed[], status: 200 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      gateway.pushes.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body,
      });
      res.writeHead(gateway.status).end(gateway.status >= 400 ? 'refused by the test' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(gateway, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** The samples of a pushed text exposition: `name{labels}` to value. */
export function samples(body: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of body.split('\n')) {
    const sample = /^(\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (sample) found[sample[1] as string] = Number(sample[2]);
  }
  return found;
}
