/** Shows the demo worker at work: the snapshot copied to DynamoDB, then a new row arriving. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';

const env = process.env;
const TABLE = 'ferry-customers';
const raw = new DynamoDBClient({
  endpoint: `http://127.0.0.1:${env.FERRY_DYNAMODB_PORT ?? 8000}`,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const doc = DynamoDBDocumentClient.from(raw);

const workerPid = Number(env.FERRY_DEMO_WORKER_PID);

function workerAlive(): boolean {
  try {
    process.kill(workerPid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (workerPid && !workerAlive())
      throw new Error(`demo: the worker exited; the end of .stack/worker/worker.log:\n${logTail()}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what} (see .stack/worker/worker.log)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const logTail = () => readFileSync('.stack/worker/worker.log', 'utf8').split('\n').slice(-8).join('\n');

async function scan() {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: doc }, { TableName: TABLE })) items.push(...(page.Items ?? []));
  return items.sort((a, b) => String(a.pk).localeCompare(String(b.pk), undefined, { numeric: true }));
}

async function main() {
  const db = await mysql.createConnection({
    host: '127.0.0.1',
    port: Number(env.FERRY_MARIADB_PORT ?? 3307),
    user: 'ferry',
    password: 'ferry',
    database: 'inventory',
  });
  const [[{ n }]] = (await db.query('SELECT COUNT(*) AS n FROM customers')) as unknown as [[{ n: number }]];
  const items = await until(`${n} customers in DynamoDB table ${TABLE}`, async () => {
    const found = await scan();
    return found.length >= n ? found : undefined;
  });
  console.log(`\ndemo: DynamoDB table ${TABLE} holds ${items.length} items for ${n} rows of inventory.customers:`);
  console.table(
    items
      .slice(0, 5)
      .map(({ pk, email, name, status, _ferry_version }) => ({ pk, email, name, status, _ferry_version })),
  );

  const email = `demo-${Date.now()}@example.com`;
  const started = Date.now();
  const [result] = (await db.query(
    "INSERT INTO customers (first_name, last_name, email) VALUES ('Demo', 'Arrival', ?)",
    [email],
  )) as unknown as [{ insertId: number }];
  const key = { pk: `CUSTOMER#${result.insertId}`, sk: 'PROFILE' };
  const item = await until(
    `item ${key.pk}`,
    async () => (await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item,
  );
  console.log(
    `\ndemo: inserted customer ${result.insertId} into MariaDB; it reached DynamoDB ${Date.now() - started} ms later:`,
  );
  console.log(item);
  await db.end();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
