import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ENV_PATHS, envName } from '../../src/config/config';
import { CHART_LEAVES } from '../../src/deploy/chart-values';

const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'deploy', 'helm', 'ferry');
const SCRIPT = join(ROOT, 'scripts', 'validate-deploy.sh');

/** helm, kubeconform and promtool as validate-deploy builds them (once, into .stack/cache). */
function tools(): Record<string, string> {
  const out = execFileSync('bash', [SCRIPT, '--tools'], { cwd: ROOT, encoding: 'utf8', timeout: 1_500_000 });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifests of several kinds
type Manifest = { kind: string; metadata: { name: string }; spec: Record<string, any> };

describe('deploy > helm chart, alerts, dashboard, compose', () => {
  let helm: string;
  beforeAll(() => {
    helm = tools().helm as string;
  }, 1_600_000);

  const base = ['--set', 'mapping.name=customers', '--set', 'mapping.module=mappings/customers.ts'];
  const template = (...args: string[]) =>
    spawnSync(helm, ['template', 'ferry-customers', CHART, '--set', 'kafka.brokers[0]=b-1:9096', ...base, ...args], {
      encoding: 'utf8',
    });
  const render = (...args: string[]): Manifest[] => {
    const result = template(...args);
    if (result.status !== 0) throw new Error(result.stderr);
    return parseAllDocuments(result.stdout)
      .map((d) => d.toJS() as Manifest | null)
      .filter((m): m is Manifest => m !== null);
  };
  const containerOf = (manifests: Manifest[], kind: string) => {
    const spec = manifests.find((m) => m.kind === kind)?.spec;
    const pod = kind === 'CronJob' ? spec?.jobTemplate.spec.template.spec : spec?.template.spec;
    return pod.containers[0] as { env: Array<{ name: string; value?: string }>; args: string[] };
  };

  it('validate-deploy.sh passes: three releases and two Kafka variants, kubeconform, promtool, dashboard queries, compose', () => {
    const run = spawnSync('bash', [SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    expect({ status: run.status, output: run.stdout + run.stderr }).toEqual({ status: 0, output: expect.any(String) });
    expect(run.stdout).toMatch(/Summary: 45 resources found in 5 files - Valid: 45, Invalid: 0, Errors: 0, Skipped: 0/);
  });

  it("sets exactly ferry's environment variables: every one the config schema reads, none other", () => {
    // Everything on, and every variable the chart accepts under `config` set.
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
    const config = Object.entries(schema.properties.config.properties as Record<string, { enum?: unknown[] }>).flatMap(
      ([name, property]) => ['--set-string', `config.${name}=${String(property.enum?.[0] ?? 1)}`],
    );
    const everything = [
      ...config,
      ...['--set', 'kafka.tls.caSecret=kafka-ca', '--set', 'kafka.tls.clientCertSecret=kafka-client'],
      ...['--set', 'schemaRegistry.secret=registry', '--set', 'schemaRegistry.caSecret=registry-ca'],
      ...['--set', 'source.urlSecret.name=source', '--set', 'reconcile.enabled=true'],
      ...['--set', 'reconcile.pushgateway=http://pushgateway:9091', '--set', 'reconcile.sourceUrlSecret.name=verify'],
    ];
    // SASL with a user and password, or MSK IAM's tokens: one or the other.
    const scram = render(...everything, '--set', 'kafka.sasl.mechanism=scram-sha-512', '--set', 'kafka.sasl.secret=k');
    const msk = render(
      ...everything,
      '--set',
      'kafka.sasl.mechanism=aws-msk-iam',
      '--set',
      'kafka.sasl.region=eu-west-1',
    );
    const ferryVars = (manifests: Manifest[], kind: string) =>
      containerOf(manifests, kind)
        .env.map((e) => e.name)
        .filter((n) => n.startsWith('FERRY_'));
    const expected = ENV_PATHS.map(envName).filter((name) => !CHART_LEAVES.includes(name));
    for (const manifests of [scram, msk]) {
      const names = ferryVars(manifests, 'Deployment');
      expect(new Set(names).size).toBe(names.length);
      expect(expected).toEqual(expect.arrayContaining(names));
    }
    expect(new Set([...ferryVars(scram, 'Deployment'), ...ferryVars(msk, 'Deployment')])).toEqual(new Set(expected));
    // verify reads the same settings, with its own database user; it serves no HTTP.
    const http = ['http.host', 'http.port'].map(envName);
    expect(new Set([...ferryVars(scram, 'CronJob'), ...ferryVars(msk, 'CronJob')])).toEqual(
      new Set(expected.filter((name) => !http.includes(name))),
    );
  });

  it('refuses a misspelled variable, more workers than partitions, and a memory limit it cannot read', () => {
    expect(template('--set', 'config.FERRY_KAFKA_TOPIC_PREFX=x').stderr).toMatch(
      /additional properties 'FERRY_KAFKA_TOPIC_PREFX' not allowed/,
    );
    expect(template('--set', 'config.FERRY_MAPPING=x').stderr).toMatch(/'FERRY_MAPPING' not allowed/);
    expect(template('--set', 'mapping.partitions=2', '--set', 'worker.replicas=3').stderr).toMatch(
      /worker.replicas \(3\) exceeds mapping.partitions \(2\)/,
    );
    expect(
      template(
        ...['--set', 'mapping.partitions=4', '--set', 'mapping.topic=t'],
        ...['--set', 'worker.autoscaling.enabled=true', '--set', 'worker.autoscaling.maxReplicas=5'],
      ).stderr,
    ).toMatch(/maxReplicas \(5\) exceeds mapping.partitions \(4\)/);
    expect(template('--set', 'worker.resources.limits.memory=1T').stderr).toMatch(/limits.memory "1T"/);
  });

  it('sizes the heap from the memory limit and caps autoscaling at the partition count', () => {
    const nodeOptions = (memory: string) =>
      containerOf(render('--set', `worker.resources.limits.memory=${memory}`), 'Deployment').env.find(
        (e) => e.name === 'NODE_OPTIONS',
      )?.value;
    expect(nodeOptions('512Mi')).toBe('--max-old-space-size=256 --max-semi-space-size=16');
    expect(nodeOptions('2Gi')).toBe('--max-old-space-size=1024 --max-semi-space-size=16');
    expect(nodeOptions('1G')).toBe('--max-old-space-size=476 --max-semi-space-size=16');

    const scaled = render(
      ...['--set', 'mapping.partitions=12', '--set', 'mapping.topic=ferry.inventory.customers'],
      ...['--set', 'worker.autoscaling.enabled=true'],
    );
    const scaledObject = scaled.find((m) => m.kind === 'ScaledObject') as Manifest;
    expect(scaledObject.spec.maxReplicaCount).toBe(12);
    expect(scaledObject.spec.triggers[0].metadata).toMatchObject({
      consumerGroup: 'ferry.customers',
      topic: 'ferry.inventory.customers',
      allowIdleConsumers: 'false',
    });
    // KEDA owns the replica count.
    expect(scaled.find((m) => m.kind === 'Deployment')?.spec.replicas).toBeUndefined();
  });

  it('runs verify on the schedule with the sample, the threshold and the pushgateway', () => {
    const manifests = render(
      ...['--set', 'reconcile.enabled=true', '--set', 'reconcile.pushgateway=http://pushgateway:9091'],
      ...['--set', 'reconcile.sourceUrlSecret.name=verify', '--set', 'reconcile.schedule=*/30 * * * *'],
    );
    const cron = manifests.find((m) => m.kind === 'CronJob') as Manifest;
    expect(cron.spec.schedule).toBe('*/30 * * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(containerOf(manifests, 'CronJob').args).toEqual([
      'verify',
      '--mapping',
      'mappings/customers.ts',
      '--sample',
      '1',
      '--max-divergence',
      '1e-06',
      '--pushgateway',
      'http://pushgateway:9091',
      '--schedule',
      '*/30 * * * *',
    ]);
    const account = manifests.find((m) => m.kind === 'ServiceAccount' && m.metadata.name.endsWith('-verify'));
    expect(account).toBeDefined();
  });
});
