import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { Scenario } from '../support/scenario';
import { accountsMapping, startAccounts, accountsMappingThrowingOnPoison } from '../support/accounts-workload';
import { kafka, scanAll, waitFor, type RunningWorker } from '../support/stack';
import { runFerry } from '../support/cli';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';
import { accessRules } from '../../src/console/access';
import { ConsoleData } from '../../src/console/console-data';
import { consoleApp, startConsoleServer } from '../../src/console/server';
import { auditTopic } from '../../src/source/kafka/audit';
import { readRange } from '../../src/source/kafka/read-range';

/**
 * `ferry console` in a real browser against the real stack: poison and a throwing mapping give two
 * dead letters; the page filters them, shows one, retries it after the mapping is fixed (the item
 * lands in DynamoDB) and shows a letter that fails again as new; token and read-only rules hold.
 */
describe('e2e > console', () => {
  const scenario = new Scenario();
  const name = `accounts-${scenario.id}`;
  const screenshots = process.env.FERRY_CONSOLE_SCREENSHOTS;
  let worker: RunningWorker;
  let browser: Browser;
  let page: Page;
  const servers: Array<{ url: string; close: () => Promise<void> }> = [];

  const startConsole = async (env: { token?: string } = {}, readOnly = false) => {
    scenario.configureCli();
    const config = loadConfig({ overrides: { mappingsDir: scenario.dir } });
    const data = new ConsoleData(config, kafka(), {
      mappingsDir: scenario.dir,
      workers: [`http://127.0.0.1:${worker.httpPort}`],
      workerPort: 9464,
      pageSize: 50,
    });
    const app = consoleApp(data, accessRules('127.0.0.1', env, readOnly), createLogger('error', 2));
    const server = await startConsoleServer(app, '127.0.0.1', 0);
    servers.push(server);
    return server.url;
  };

  const rowOf = (text: string) => page.locator('[data-testid=letters] tr', { hasText: text });

  beforeAll(async () => {
    await startAccounts(scenario, 3);
    const throwing = accountsMappingThrowingOnPoison(name);
    worker = await scenario.startWorker(scenario.writeMapping('accounts.ts', throwing), {
      FERRY_APPLIED_LOG_ENABLED: 'true',
    });
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: scenario.topic(), messages: [{ key: 'poison-key', value: 'not json at all' }] });
    await producer.disconnect();
    await scenario.db.query(`INSERT INTO accounts VALUES (1001, 'poison1@example.com', 'free', 1.00, NOW(6))`);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
    await scenario.tearDown();
  });

  it('shows both letters, filters them, retries one after a fix and shows a letter that fails again as new', async () => {
    const url = await startConsole();
    await waitFor(
      'two dead letters on the overview',
      async () => {
        await page.goto(url);
        return (await page.locator(`tr[data-mapping="${name}"] [data-testid=letters] a`).first().textContent()) === '2';
      },
      90_000,
    );
    const overview = page.locator(`tr[data-mapping="${name}"]`);
    await expect(overview.textContent()).resolves.toMatch(
      /MappingError: 1[\s\S]*DecodeError: 1|DecodeError: 1[\s\S]*MappingError: 1/,
    );
    // A second sample gives a rate from the worker's counters.
    await page.reload();
    await expect(overview.locator('[data-testid=events-per-second]').textContent()).resolves.toMatch(/\d.*\(workers\)/);
    await expect(overview.locator('[data-testid=capture]').textContent()).resolves.toMatch(/heartbeat \d+ s ago/);
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: join(screenshots, 'console-overview.png') });
    }

    await overview.locator('td a').first().click();
    await expect(page.locator('[data-testid=letters] tr[data-letter]').count()).resolves.toBe(2);
    // Filters: error class, text in the error, text in the key.
    await page.fill('input[name=class]', 'MappingError');
    await page.click('form.filter button');
    await expect(page.locator('[data-testid=letters] tr[data-letter]').count()).resolves.toBe(1);
    await expect(rowOf('cannot map poison1').count()).resolves.toBe(1);
    await page.goto(`${url}/m/${name}/letters?q=POISON-KEY`);
    await expect(page.locator('[data-testid=letters] tr[data-letter]').count()).resolves.toBe(1);
    await expect(rowOf('DecodeError').count()).resolves.toBe(1);
    await page.goto(`${url}/m/${name}/letters?from=2000-01-01T00:00&to=2000-01-02T00:00`);
    await expect(page.locator('[data-testid=letters] tr[data-letter]').count()).resolves.toBe(0);

    // One letter: origin, error, and the current mapping still throwing on it.
    await page.goto(`${url}/m/${name}/letters?class=MappingError`);
    await rowOf('cannot map').locator('a').first().click();
    await expect(page.locator('[data-testid=origin]').textContent()).resolves.toContain(scenario.topic());
    await expect(page.locator('[data-testid=dry-run]').textContent()).resolves.toContain('cannot map poison1');
    await expect(page.locator('[data-testid=decoded]').textContent()).resolves.toContain('poison1@example.com');

    // Fix the mapping on disk: the dry run shows what it would write now.
    scenario.writeMapping('accounts.ts', accountsMapping(name));
    await page.reload();
    await expect(page.locator('[data-testid=dry-run]').textContent()).resolves.toContain('ACCOUNT#1001');
    if (screenshots) await page.screenshot({ path: join(screenshots, 'console-dead-letter.png') });

    await page.click('button[value="retry:selected"]');
    await expect(page.locator('h1').textContent()).resolves.toMatch(/Retry: 1 dead letter/);
    await expect(page.locator('[data-testid=action-letters]').textContent()).resolves.toContain('written 1');
    expect((await scanAll(scenario.table)).some((i) => i.pk === 'ACCOUNT#1001')).toBe(false);
    await page.click('[data-testid=confirm]');
    await expect(page.locator('[data-testid=result]').textContent()).resolves.toMatch(/Retried: 1/);
    expect((await scanAll(scenario.table)).find((i) => i.pk === 'ACCOUNT#1001')).toMatchObject({
      email: 'poison1@example.com',
    });

    // Why does the item look like this? The retry's write is in the applied-changes log, and is
    // what the table holds; a snapshot row's item was written by the worker.
    await page.goto(`${url}/m/${name}/item`);
    await page.fill('input[name=key]', '{"pk":"ACCOUNT#1001","sk":"PROFILE"}');
    await page.click('form.filter button');
    await expect(page.locator('[data-testid=current]').textContent()).resolves.toContain('poison1@example.com');
    const written = page.locator('[data-testid=history] tr[data-outcome=written]');
    await expect(written.count()).resolves.toBe(1);
    await expect(written.textContent()).resolves.toMatch(/create at .* partition \d+ offset \d+[\s\S]*in the table/);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'console-item.png') });
    await page.goto(`${url}/m/${name}/item?key=${encodeURIComponent('{"pk":"ACCOUNT#1","sk":"PROFILE"}')}`);
    await expect(page.locator('[data-testid=history] tr[data-outcome=written]').textContent()).resolves.toMatch(
      /snapshot at[\s\S]*in the table/,
    );
    await page.goto(`${url}/m/${name}/item?key=${encodeURIComponent('{"pk":1}')}`);
    await expect(page.locator('main').textContent()).resolves.toMatch(/is not a key of/);

    // Retrying the undecodable letter fails again: a new letter naming the one it retried.
    await page.goto(`${url}/m/${name}/letters?class=DecodeError`);
    const decodeId = (await rowOf('DecodeError').getAttribute('data-letter')) as string;
    await rowOf('DecodeError').locator('input[type=checkbox]').check();
    await page.click('button[value="retry:selected"]');
    await expect(page.locator('[data-testid=action-letters]').textContent()).resolves.toContain('dead-lettered 1');
    await page.click('[data-testid=confirm]');
    await page.goto(`${url}/m/${name}/letters`);
    await expect(page.locator('[data-testid=letters] tr[data-letter]').count()).resolves.toBe(3);
    await expect(page.locator('[data-testid=failed-again]').textContent()).resolves.toBe(
      `failed again, retry of ${decodeId}`,
    );
    await expect(page.locator(`tr[data-letter="${decodeId}"]`).textContent()).resolves.toContain(
      'retried: dead-lettered 1',
    );
    await expect(rowOf('MappingError').textContent()).resolves.toContain('retried: written 1');

    // Mark the new letter resolved: it leaves the open ones.
    const again = page.locator('tr', { has: page.locator('[data-testid=failed-again]') });
    await again.locator('input[type=checkbox]').check();
    await page.click('button[value="resolve:selected"]');
    await page.click('[data-testid=confirm]');
    await page.goto(`${url}/m/${name}/letters?state=open`);
    await expect(page.locator('[data-testid=letters] tr[data-letter]').count()).resolves.toBe(0);

    // Every action is in the audit topic, by who did it.
    const entries: Array<{ action: string; who: string; detail: { mapping?: string } }> = [];
    await readRange(kafka(), {
      topic: auditTopic(scenario.connector?.prefix ?? ''),
      onBatch: async (_p, messages) => void entries.push(...messages.map((m) => JSON.parse(String(m.value)))),
    });
    const ours = entries.filter((e) => e.detail.mapping === name);
    expect(ours.map((e) => e.action)).toEqual([
      'console.dlq.retry.requested',
      'console.dlq.retry',
      'console.dlq.retry.requested',
      'console.dlq.retry',
      'console.dlq.resolve',
    ]);
    expect(new Set(ours.map((e) => e.who))).toEqual(new Set(['loopback']));

    // An action without the page's form token, or from another origin, is refused.
    const form = { action: 'resolve:filter' };
    const post = (headers: Record<string, string>, body: Record<string, string>) =>
      fetch(`${url}/m/${name}/run`, { method: 'POST', headers, body: new URLSearchParams(body) });
    expect((await post({}, form)).status).toBe(403);
    const token = (await page.locator('input[name=csrf]').first().getAttribute('value')) as string;
    expect((await post({ origin: 'http://evil.example' }, { ...form, csrf: token })).status).toBe(403);
  }, 240_000);

  it('asks for the token when one is set: none or a wrong one is 401, the right one opens the page', async () => {
    const url = await startConsole({ token: 's3cret-token' });
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${url}/?token=s3cret-token`);
    expect(tab.url()).toBe(`${url}/`);
    await expect(tab.locator('[data-testid=overview]').count()).resolves.toBe(1);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'ferry_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(JSON.stringify(cookies)).not.toContain('s3cret-token');
    await context.close();
    // Bound beyond loopback without credentials, the command refuses to start.
    scenario.configureCli();
    const { code, err } = await runFerry('console', '--host', '0.0.0.0', '--mappings', scenario.dir);
    expect({ code, err }).toEqual({ code: 2, err: expect.stringContaining('FERRY_CONSOLE_TOKEN') });
  }, 60_000);

  it('read-only shows no action and refuses every action request', async () => {
    const url = await startConsole({}, true);
    await page.goto(`${url}/m/${name}/letters`);
    await expect(page.locator('[data-testid=letters] tr[data-letter]').count()).resolves.toBe(3);
    await expect(page.locator('button[name=action]').count()).resolves.toBe(0);
    await expect(page.locator('input[type=checkbox]').count()).resolves.toBe(0);
    const token = (await page.locator('input[name=csrf]').first().getAttribute('value')) as string;
    const res = await fetch(`${url}/m/${name}/run`, {
      method: 'POST',
      body: new URLSearchParams({ action: 'resolve:filter', csrf: token }),
    });
    expect(res.status).toBe(403);
    await expect(res.text()).resolves.toContain('read-only');
  }, 60_000);
});
