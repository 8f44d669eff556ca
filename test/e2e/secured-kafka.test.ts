import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Scenario } from '../support/scenario';
import {
  ACCOUNTS_SELECT,
  accountsMapping,
  decodeAccount,
  startAccounts,
  accountsMappingThrowingOnPoison,
} from '../support/accounts-workload';
import { runFerry } from '../support/cli';
import { stack } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const PASSWORD = 'ferry-secret';

/** The stack's TLS listeners: SCRAM-SHA-512 over TLS, and TLS with a client certificate. */
const scram = {
  FERRY_KAFKA_BROKERS: stack.kafkaSaslSslBrokers.join(','),
  FERRY_KAFKA_SSL_CA: join(stack.tlsDir, 'ca.pem'),
  FERRY_KAFKA_SASL_MECHANISM: 'scram-sha-512',
  FERRY_KAFKA_SASL_USERNAME: 'ferry',
  FERRY_KAFKA_SASL_PASSWORD: PASSWORD,
};
const mtls = {
  FERRY_KAFKA_BROKERS: stack.kafkaMtlsBrokers.join(','),
  FERRY_KAFKA_SSL_CA: join(stack.tlsDir, 'ca.pem'),
  FERRY_KAFKA_SSL_CERT: join(stack.tlsDir, 'client.pem'),
  FERRY_KAFKA_SSL_KEY: join(stack.tlsDir, 'client.key'),
};
const KAFKA_VARS = [...Object.keys(scram), ...Object.keys(mtls), 'FERRY_KAFKA_SSL'];

/**
 * `ferry <args>` in a process of its own, as an operator runs it, with these Kafka settings only:
 * everything it prints, its logs included, is captured.
 */
async function ferryWith(settings: Record<string, string>, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, FERRY_LOG_LEVEL: 'debug' };
  KAFKA_VARS.forEach((k) => delete env[k]);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), ...args], {
    cwd: ROOT,
    env: { ...env, ...settings },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out, err };
}

/**
 * The worker and the operator commands through a broker that requires TLS and SASL/SCRAM, or a
 * client certificate; and the mistakes operators make with them, each a one-line error naming the
 * setting, a non-zero exit and no secret in any log line.
 */
describe('e2e > secured Kafka', () => {
  const scenario = new Scenario();
  let mapping: string;
  let name: string;

  beforeAll(async () => {
    await startAccounts(scenario, 30);
    scenario.configureCli();
    name = `accounts-${scenario.id}`;
    // Rows of 'poison' emails are dead-lettered until the mapping is fixed.
    const throwing = accountsMappingThrowingOnPoison(name);
    mapping = scenario.writeMapping('accounts.ts', throwing);
  }, 180_000);

  afterAll(() => scenario.tearDown());

  it('runs the worker over TLS + SCRAM-SHA-512, trusting the CA file', async () => {
    const worker = await scenario.startWorker(mapping, scram);
    await scenario.db.query(
      `INSERT INTO accounts VALUES (2001, 'poison@example.com', 'free', 1.00, NOW(6)), (2002, 'ok@example.com', 'pro', 2.00, NOW(6))`,
    );
    await scenario.expectConverged(mapping, `${ACCOUNTS_SELECT} WHERE email NOT LIKE 'poison%'`, decodeAccount);
    await worker.stop();
    expect(worker.output()).not.toContain(PASSWORD);
  }, 240_000);

  it('shows and resets offsets, redrives dead letters and rebuilds through the same listener', async () => {
    const shown = await ferryWith(scram, 'offsets', 'show', '--mapping', mapping, '--json');
    expect(shown).toMatchObject({ code: 0 });
    expect(JSON.parse(shown.out)).toMatchObject({ totalLag: 0 });

    // The fixed mapping maps the poison row; the redrive writes it.
    const fixed = scenario.writeMapping('accounts.ts', accountsMapping(name));
    const redriven = await ferryWith(scram, 'dlq', 'redrive', '--mapping', fixed);
    expect(redriven).toMatchObject({ code: 0 });
    await scenario.expectConverged(fixed, ACCOUNTS_SELECT, decodeAccount);

    const shadow = `${scenario.table}-rebuild-secured`;
    const rebuilt = await ferryWith(scram, 'rebuild', '--mapping', fixed, '--table', shadow, '--json');
    expect(rebuilt).toMatchObject({ code: 0 });
    expect((await runFerry('verify', '--mapping', fixed, '--table', shadow)).code).toBe(0);

    const reset = await ferryWith(scram, 'offsets', 'reset', '--mapping', fixed, '--to', 'earliest');
    expect(reset).toMatchObject({ code: 0 });
    for (const result of [shown, redriven, rebuilt, reset]) expect(result.out + result.err).not.toContain(PASSWORD);
  }, 240_000);

  it('connects with a client certificate (mTLS), and with the CA in Node’s trust instead of a file', async () => {
    expect(await ferryWith(mtls, 'offsets', 'show', '--mapping', mapping)).toMatchObject({ code: 0 });
    // NODE_EXTRA_CA_CERTS is read at start: a child process, as a deployment would run it.
    const { FERRY_KAFKA_SSL_CA: ca, ...withoutFile } = scram;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), 'offsets', 'show', '--mapping', mapping],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, ...withoutFile, FERRY_KAFKA_SSL: 'true', NODE_EXTRA_CA_CERTS: ca },
      },
    );
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' });
  }, 120_000);

  it.each([
    ['a wrong password', { ...scram, FERRY_KAFKA_SASL_PASSWORD: 'not-the-password' }, /FERRY_KAFKA_SASL_PASSWORD/],
    ['an unknown CA', { ...scram, FERRY_KAFKA_SSL_CA: '', FERRY_KAFKA_SSL: 'true' }, /FERRY_KAFKA_SSL_CA/],
    ['a plaintext client on the TLS port', { FERRY_KAFKA_BROKERS: scram.FERRY_KAFKA_BROKERS }, /FERRY_KAFKA_SSL=true/],
    [
      'no client certificate for mTLS',
      { ...mtls, FERRY_KAFKA_SSL_CERT: '', FERRY_KAFKA_SSL_KEY: '' },
      /FERRY_KAFKA_SSL_CERT/,
    ],
  ])(
    'refuses %s in one line naming the setting, exit 2, no secret logged',
    async (_, settings, setting) => {
      const result = await ferryWith(settings, 'offsets', 'show', '--mapping', mapping);
      expect(result.code).toBe(2);
      const lines = result.err.trim().split('\n');
      expect(lines.at(-1)).toMatch(/^ferry: /);
      expect(lines.at(-1)).toMatch(setting);
      expect(result.out + result.err).not.toContain(PASSWORD);
      expect(result.out + result.err).not.toContain('not-the-password');
    },
    120_000,
  );

  it('stops a worker with a wrong password: exit 2, the setting named, no secret in its logs', async () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), 'run'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 90_000,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...scram,
        FERRY_KAFKA_SASL_PASSWORD: 'not-the-password',
        FERRY_MAPPING: mapping,
        FERRY_KAFKA_TOPIC_PREFIX: scenario.connector?.prefix ?? '',
        FERRY_DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
        FERRY_HTTP_PORT: '0',
        FERRY_LOG_LEVEL: 'debug',
      },
    });
    expect(child.status).toBe(2);
    expect(child.stderr.trim().split('\n').at(-1)).toMatch(
      /^ferry: Kafka .*refused the SASL login.*FERRY_KAFKA_SASL_PASSWORD/,
    );
    expect(child.stdout + child.stderr).not.toContain('not-the-password');
  }, 120_000);
});
