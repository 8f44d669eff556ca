/**
 * Client CPU per conditional write, against a loopback stub that answers `{}` (run in a child
 * process, so that only the client's CPU is counted): the lean client, the SDK's PutItemCommand,
 * and Node's http posting the same body unsigned (the floor any client pays).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config/config';
import { mapConcurrent } from '../../src/core/concurrency';
import { createDynamoDbClient } from '../../src/sink/dynamodb/client';
import { versionGuard } from '../../src/sink/dynamodb/dynamodb-writer';
import { LeanDynamoDb } from '../../src/sink/dynamodb/lean-client';

const STUB = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': '2' }).end('{}'));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

export interface WriteCpu {
  leanUsPerWrite: number;
  sdkUsPerWrite: number;
  httpFloorUsPerRequest: number;
  writes: number;
  inFlight: number;
}

export async function writeCpu(writes = 20_000, inFlight = 32, rounds = 3): Promise<WriteCpu> {
  const stub = spawn(process.execPath, ['-e', STUB], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      stub.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      stub.once('exit', (code) => reject(new Error(`stub exited ${code}`)));
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const dynamodb = loadConfig({ env: { FERRY_DYNAMODB_ENDPOINT: endpoint } }).dynamodb;
    const version = 'v1:0000000001-00000000000000636572-0000000000-2@001796455587000';
    const input = (i: number) => ({
      TableName: 'ferry-customers',
      Item: {
        pk: { S: `CUSTOMER#${1000 + (i % 5000)}` },
        sk: { S: 'PROFILE' },
        email: { S: `customer${i}@example.com` },
        name: { S: 'Sally Thomas' },
        status: { S: 'active' },
        createdAt: { S: '2026-12-05T07:26:30.885090' },
        _ferry_version: { S: version },
      },
      ...versionGuard(version),
    });

    const lean = new LeanDynamoDb(dynamodb);
    const sdk = createDynamoDbClient(dynamodb);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const post = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify(input(i));
        const req = http.request(
          {
            hostname: '127.0.0.1',
            port,
            path: '/',
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': 'DynamoDB_20120810.PutItem',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const clients: Record<keyof Omit<WriteCpu, 'writes' | 'inFlight'>, (i: number) => Promise<unknown>> = {
      leanUsPerWrite: (i) => lean.putItem(input(i)),
      sdkUsPerWrite: (i) => sdk.send(new PutItemCommand(input(i))),
      httpFloorUsPerRequest: post,
    };
    const measure = async (call: (i: number) => Promise<unknown>, n: number) => {
      const indexes = Array.from({ length: n }, (_, i) => i);
      const before = process.cpuUsage();
      await mapConcurrent(indexes, inFlight, call);
      const used = process.cpuUsage(before);
      return (used.user + used.system) / n;
    };
    const samples = new Map<string, number[]>();
    for (const call of Object.values(clients)) await measure(call, 2000); // warm up
    // Interleaved rounds, the median of each: the machine's drift touches every client alike.
    for (let r = 0; r < rounds; r++)
      for (const [name, call] of Object.entries(clients))
        samples.set(name, [...(samples.get(name) ?? []), await measure(call, writes)]);
    lean.destroy();
    sdk.destroy();
    agent.destroy();
    const median = (name: string) => {
      const s = [...(samples.get(name) ?? [])].sort((a, b) => a - b);
      return Math.round(s[Math.floor(s.length / 2)] ?? NaN);
    };
    return {
      leanUsPerWrite: median('leanUsPerWrite'),
      sdkUsPerWrite: median('sdkUsPerWrite'),
      httpFloorUsPerRequest: median('httpFloorUsPerRequest'),
      writes,
      inFlight,
    };
  } finally {
    stub.kill();
  }
}

if (require.main === module)
  void writeCpu().then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  });
