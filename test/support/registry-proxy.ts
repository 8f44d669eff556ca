import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stack } from './stack';

/**
 * HTTPS with basic auth in front of the stack's Apicurio, as a secured registry is served: the
 * certificate is the broker's (127.0.0.1, signed by the stack's CA in .stack/tls).
 */
export async function startSecuredRegistry(user: string, password: string) {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const upstream = new URL(stack.registryUrl);
  const server = https.createServer(
    {
      key: readFileSync(join(stack.tlsDir, 'broker.key')),
      cert: readFileSync(join(stack.tlsDir, 'broker.pem')),
    },
    (req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
        return;
      }
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, authorization: '' },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      req.pipe(forward);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/apis/ccompat/v7`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
