import { type Server, type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { type Config, loadConfig } from '../../src/config/config';
import { changes } from '../../src/mapping/testing';
import { applyMapping } from '../../src/mapping/apply-mapping';
import { compileMapping } from '../../src/mapping/define-mapping';
import { createDynamoDbClient } from '../../src/sink/dynamodb/client';
import { DynamoDbWriter, writerOptions } from '../../src/sink/dynamodb/dynamodb-writer';
import { LeanDynamoDb, sdkWrites } from '../../src/sink/dynamodb/lean-client';

/** A peer on loopback that accepts connections and never answers: a half-open DynamoDB. */
describe('sink > dynamodb > a peer that never answers', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    sockets.forEach((socket) => socket.destroy());
    return new Promise((resolve) => server.close(resolve));
  });

  it.each([
    ['the lean client', (config: Config) => new LeanDynamoDb(config.dynamodb)],
    ['the SDK', (config: Config) => sdkWrites(createDynamoDbClient(config.dynamodb))],
  ])(
    '%s times each request out, retries it as "unreachable", and stops when asked',
    async (_name, connect) => {
      const config = loadConfig({
        env: { FERRY_DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`, FERRY_DYNAMODB_REQUEST_TIMEOUT_MS: '200' },
      });
      const client = connect(config);
      const mapping = compileMapping({
        name: 'm',
        source: { table: 'db.t' },
        target: { table: 'things', partitionKey: 'pk' },
        key: (row: { id: number }) => ({ pk: `T#${row.id}` }),
        item: () => ({}),
      });
      const errors: string[] = [];
      let checks = 0;
      const started = Date.now();
      const writing = new DynamoDbWriter(client, {
        ...writerOptions(config.dynamodb),
        concurrency: 1,
        retry: { initialDelayMs: 1, maxDelayMs: 2 },
      }).write(applyMapping(mapping, changes.insert('db.t', { id: 1 })), {
        shouldStop: () => ++checks > 4,
        onRetry: (err) => errors.push(String((err as Error).message)),
      });
      await expect(writing).rejects.toThrow('retry abandoned');
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatch(/TimeoutError.*DynamoDB unreachable/);
      // Three attempts of 200 ms each (and the SDK's own retries), not forever.
      expect(Date.now() - started).toBeLessThan(10_000);
    },
    20_000,
  );
});
