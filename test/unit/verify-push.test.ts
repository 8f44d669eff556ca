import { ConfigError, FerryError } from '../../src/core/errors';
import {
  type PushTarget,
  pushVerifyResult,
  pushgatewayUrl,
  pushingFailure,
  withoutCredentials,
} from '../../src/verify/push-result';
import type { VerifyReport } from '../../src/verify/reconcile';
import { scheduleIntervalSeconds } from '../../src/verify/schedule';
import { runFerry } from '../support/cli';
import { type FakePushgateway, fakePushgateway, samples } from '../support/pushgateway';

const report: VerifyReport = {
  table: 'customers-shadow',
  sourceKey: 'id (primary key)',
  sourceRows: 1000,
  expectedItems: 1000,
  checkedExtras: true,
  missing: 2,
  extra: 1,
  different: 3,
  unmappable: 1,
  divergenceRatio: 7 / 1001,
  examples: [],
};
const startedAt = Date.UTC(2026, 0, 5, 9, 0, 0);
const endedAt = startedAt + 83_250;
const run = { maxDivergence: 0.000001, startedAt, endedAt };
const m = 'mapping="customers"';
const mt = `${m},table="customers-shadow"`;

describe('verify > pushing the result to a Pushgateway', () => {
  let gateway: FakePushgateway;
  let target: PushTarget;

  beforeEach(async () => {
    gateway = await fakePushgateway();
    target = { url: gateway.url, mapping: 'customers', scheduleIntervalSeconds: 3600 };
  });
  afterEach(() => gateway.close());

  it('replaces the group (PUT) with every measurement of a completed run, each with a HELP text', async () => {
    await pushVerifyResult(target, run, report);
    expect(gateway.pushes.map((p) => [p.method, p.path])).toEqual([
      ['PUT', '/metrics/job/ferry-verify/mapping/customers'],
    ]);
    const body = gateway.pushes[0]?.body as string;
    expect(samples(body)).toEqual({
      [`ferry_verify_divergence_ratio{${mt}}`]: 7 / 1001,
      [`ferry_verify_max_divergence_ratio{${m}}`]: 0.000001,
      [`ferry_verify_missing_items{${mt}}`]: 2,
      [`ferry_verify_extra_items{${mt}}`]: 1,
      [`ferry_verify_different_items{${mt}}`]: 3,
      [`ferry_verify_unmappable_rows{${mt}}`]: 1,
      [`ferry_verify_source_rows{${mt}}`]: 1000,
      [`ferry_verify_sample_ratio{${mt}}`]: 1,
      [`ferry_verify_duration_seconds{${mt}}`]: 83.25,
      [`ferry_verify_last_run_timestamp_seconds{${m}}`]: endedAt / 1000,
      [`ferry_verify_last_run_succeeded{${m}}`]: 1,
      [`ferry_verify_last_success_timestamp_seconds{${m}}`]: endedAt / 1000,
      [`ferry_verify_schedule_interval_seconds{${m}}`]: 3600,
    });
    const names = Object.keys(samples(body)).map((s) => s.replace(/\{.*/, ''));
    for (const name of names) {
      expect(body).toMatch(new RegExp(`^# HELP ${name} \\S.{20,}$`, 'm'));
      expect(body).toContain(`# TYPE ${name} gauge\n`);
    }
  });

  it('leaves the extra-item count out of a sampled run (it looks for none), and says what share it checked', async () => {
    await pushVerifyResult(
      { url: gateway.url, mapping: 'customers' },
      { ...run, samplePercent: 5 },
      { ...report, checkedExtras: false, extra: 0 },
    );
    const pushed = samples(gateway.pushes[0]?.body as string);
    expect(pushed[`ferry_verify_sample_ratio{${mt}}`]).toBe(0.05);
    expect(Object.keys(pushed).filter((s) => /extra|schedule/.test(s))).toEqual([]);
    expect(pushed[`ferry_verify_missing_items{${mt}}`]).toBe(2);
  });

  it('records a run that throws with POST, only its time, success 0 and the schedule, and throws the same error', async () => {
    const unreachable = new FerryError('cannot connect to the source database');
    await expect(pushingFailure(target, () => Promise.reject(unreachable))).rejects.toBe(unreachable);
    expect(gateway.pushes.map((p) => [p.method, p.path])).toEqual([
      ['POST', '/metrics/job/ferry-verify/mapping/customers'],
    ]);
    const pushed = samples(gateway.pushes[0]?.body as string);
    expect(Object.keys(pushed).sort()).toEqual([
      `ferry_verify_last_run_succeeded{${m}}`,
      `ferry_verify_last_run_timestamp_seconds{${m}}`,
      `ferry_verify_schedule_interval_seconds{${m}}`,
    ]);
    expect(pushed[`ferry_verify_last_run_succeeded{${m}}`]).toBe(0);
    expect(pushed[`ferry_verify_last_run_timestamp_seconds{${m}}`]).toBeCloseTo(Date.now() / 1000, -1);
    // Nothing is pushed for a run that completes: the caller pushes its result.
    await expect(pushingFailure(target, async () => 42)).resolves.toBe(42);
    expect(gateway.pushes).toHaveLength(1);
  });

  it('fails when the push fails, naming the Pushgateway without its credentials, and sends them as basic auth', async () => {
    gateway.status = 500;
    const withUser = gateway.url.replace('//', '//ops:s3cret@');
    const refused = pushVerifyResult({ ...target, url: withUser }, run, report);
    await expect(refused).rejects.toThrow(FerryError);
    await expect(refused).rejects.toThrow(
      `the verify result was not recorded: pushing it to the Pushgateway at ${gateway.url}/ failed: push failed with status 500, refused by the test`,
    );
    expect(gateway.pushes[0]?.authorization).toBe(`Basic ${Buffer.from('ops:s3cret').toString('base64')}`);

    await gateway.close();
    const unreachable = pushVerifyResult({ ...target, url: `${withUser}/prefix` }, run, report);
    await expect(unreachable).rejects.toThrow(
      new RegExp(
        `^the verify result was not recorded: pushing it to the Pushgateway at ${gateway.url}/prefix failed: .*ECONNREFUSED`,
      ),
    );
    await expect(unreachable).rejects.not.toThrow(/s3cret/);
  });

  it('through the CLI: a run whose source is unreachable pushes its failure and exits 1 with the source error', async () => {
    const saved = process.env.FERRY_SOURCE_URL;
    process.env.FERRY_SOURCE_URL = 'mysql://ferry:ferry@127.0.0.1:1';
    try {
      const { code, out, err } = await runFerry(
        'verify',
        '--mapping',
        'customers',
        '--pushgateway',
        gateway.url,
        '--schedule',
        '0 9 * * 1-5',
      );
      expect([code, out]).toEqual([1, '']);
      expect(err).toMatch(/^ferry: cannot connect to the source database \(mysql:\/\/ferry:\*\*\*@127\.0\.0\.1:1\)/);
    } finally {
      process.env.FERRY_SOURCE_URL = saved;
    }
    expect(gateway.pushes.map((p) => [p.method, p.path])).toEqual([
      ['POST', '/metrics/job/ferry-verify/mapping/customers'],
    ]);
    expect(samples(gateway.pushes[0]?.body as string)).toMatchObject({
      [`ferry_verify_last_run_succeeded{${m}}`]: 0,
      [`ferry_verify_schedule_interval_seconds{${m}}`]: 3 * 24 * 3600,
    });
  });
});

describe('verify > --schedule and --pushgateway', () => {
  const monday = new Date('2026-01-05T00:00:00Z');

  it.each([
    ['0 * * * *', 3600],
    ['@hourly', 3600],
    ['*/15 * * * *', 900],
    // Friday 09:00 to Monday 09:00.
    ['0 9 * * 1-5', 3 * 24 * 3600],
    ['30 2 * * *', 24 * 3600],
    // January to February, 31 days.
    ['0 0 1 * *', 31 * 24 * 3600],
  ])('the longest gap between runs of %s is %d s', (cron, seconds) => {
    expect(scheduleIntervalSeconds(cron, monday)).toBe(seconds);
    expect(scheduleIntervalSeconds(cron)).toBe(seconds);
  });

  it.each([
    ['0 9 * *', /^--schedule "0 9 \* \*" is not a cron schedule: invalid configuration format/],
    ['61 * * * *', /^--schedule "61 \* \* \* \*" is not a cron schedule: Invalid value for minute: 61$/],
    ['0 0 * * * *', /^--schedule "0 0 \* \* \* \*" is not a cron schedule: .*requires exactly 5 parts/],
    ['0 0 30 2 *', /^--schedule "0 0 30 2 \*" never runs twice$/],
  ])('%s is a ConfigError naming --schedule', (cron, message) => {
    expect(() => scheduleIntervalSeconds(cron)).toThrow(ConfigError);
    expect(() => scheduleIntervalSeconds(cron)).toThrow(message);
  });

  it('--pushgateway must be an http(s) URL, and is never repeated with its credentials', () => {
    expect(pushgatewayUrl('https://pushgateway.monitoring:9091')).toBe('https://pushgateway.monitoring:9091');
    expect(() => pushgatewayUrl('pushgateway:9091')).toThrow(ConfigError);
    expect(() => pushgatewayUrl('pushgateway:9091')).toThrow('--pushgateway must be an http(s) URL');
    expect(() => pushgatewayUrl('ftp://u:secret@host')).toThrow(
      /^--pushgateway must be an http\(s\) URL, .*\(not ftp:\)$/,
    );
    expect(() => pushgatewayUrl('not a url')).toThrow(ConfigError);
    expect(withoutCredentials('https://u:secret@pg:9091/base')).toBe('https://pg:9091/base');
  });

  it('the CLI refuses a bad --schedule or --pushgateway with exit 2 before any work', async () => {
    const bad = await runFerry(
      'verify',
      '--mapping',
      'nowhere',
      '--pushgateway',
      'http://pg:9091',
      '--schedule',
      '* *',
    );
    expect([bad.code, bad.out]).toEqual([2, '']);
    expect(bad.err).toMatch(/^ferry: --schedule "\* \*" is not a cron schedule/);
    const url = await runFerry('verify', '--mapping', 'nowhere', '--pushgateway', 'file:///tmp/x');
    expect([url.code, url.err]).toEqual([
      2,
      'ferry: --pushgateway must be an http(s) URL, e.g. http://pushgateway:9091 (not file:)\n',
    ]);
    const alone = await runFerry('verify', '--mapping', 'nowhere', '--schedule', '0 * * * *');
    expect([alone.code, alone.err]).toEqual([
      2,
      'ferry: --schedule is pushed with the result: give --pushgateway too\n',
    ]);
  });
});
