import { Gauge, Pushgateway, Registry } from 'prom-client';
import { ConfigError, FerryError } from '../core/errors';
import type { VerifyReport } from './reconcile';

/** The Pushgateway job verify results are grouped under, with the mapping's name as `mapping`. */
export const PUSH_JOB = 'ferry-verify';
const PUSH_TIMEOUT_MS = 15_000;

/** Where a verify run's result goes: a Pushgateway's group for the mapping. */
export interface PushTarget {
  /** The Pushgateway's base URL, as checked by pushgatewayUrl (it may hold credentials). */
  url: string;
  mapping: string;
  /** The longest gap between runs of the job's schedule (see schedule.ts), when it was given. */
  scheduleIntervalSeconds?: number;
}

/** What a completed run was asked and when it ran (ms since the epoch). */
export interface VerifyRun {
  maxDivergence: number;
  samplePercent?: number;
  startedAt: number;
  endedAt: number;
}

/** Checks `--pushgateway`: an http(s) URL. The value is not repeated: it may hold credentials. */
export function pushgatewayUrl(value: string): string {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new ConfigError('--pushgateway must be an http(s) URL, e.g. http://pushgateway:9091');
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new ConfigError(`--pushgateway must be an http(s) URL, e.g. http://pushgateway:9091 (not ${protocol})`);
  return value;
}

/** The URL without its user and password, to name it in messages. */
export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

const seconds = (ms: number) => ms / 1000;

/** Gauges of one push, each set once; a registry of its own, never the worker's. */
function metrics(target: PushTarget) {
  const registry = new Registry();
  const mapping = { mapping: target.mapping };
  const gauge = (name: string, help: string, value: number, labels: Record<string, string> = mapping) =>
    new Gauge({ name, help, labelNames: Object.keys(labels), registers: [registry] }).set(labels, value);
  const lastRun = (endedAt: number, succeeded: boolean) => {
    gauge(
      'ferry_verify_last_run_timestamp_seconds',
      'When the last ferry verify run ended, completed or failed (Unix time)',
      seconds(endedAt),
    );
    gauge(
      'ferry_verify_last_run_succeeded',
      'Whether the last ferry verify run completed and measured (1, whatever it found) or failed (0)',
      succeeded ? 1 : 0,
    );
    if (target.scheduleIntervalSeconds !== undefined)
      gauge(
        'ferry_verify_schedule_interval_seconds',
        "Longest gap between two runs of the verify job's schedule (--schedule); no success for two of them is FerryReconcileNotSucceeding",
        target.scheduleIntervalSeconds,
      );
  };
  return { registry, gauge, lastRun };
}

async function send(target: PushTarget, registry: Registry, method: 'push' | 'pushAdd'): Promise<void> {
  // One request, on a connection of its own (agent: false): nothing is left open after it.
  const gateway = new Pushgateway(target.url, { timeout: PUSH_TIMEOUT_MS, agent: false }, registry);
  try {
    await gateway[method]({ jobName: PUSH_JOB, groupings: { mapping: target.mapping } });
  } catch (err) {
    const reason = (err as { message?: string } | undefined)?.message ?? String(err);
    throw new FerryError(
      `the verify result was not recorded: pushing it to the Pushgateway at ${withoutCredentials(target.url)} failed: ${reason}`,
      { cause: err },
    );
  }
}

/**
 * Replaces the mapping's group (HTTP PUT) with a completed run's measurements. "Completed" is
 * measured, within the threshold or not: the divergence alert compares the ratio with the threshold.
 */
export async function pushVerifyResult(target: PushTarget, run: VerifyRun, report: VerifyReport): Promise<void> {
  await send(target, completedRun(target, run, report), 'push');
}

/** The registry a completed run pushes (the dashboard and alert checks read its metric names). */
export function completedRun(target: PushTarget, run: VerifyRun, report: VerifyReport): Registry {
  const { registry, gauge, lastRun } = metrics(target);
  const table = { mapping: target.mapping, table: report.table };
  const found = 'found by the last completed ferry verify run';
  gauge(
    'ferry_verify_divergence_ratio',
    `(missing + extra + different items + unmappable rows) / (expected + extra items), ${found}`,
    report.divergenceRatio,
    table,
  );
  gauge(
    'ferry_verify_max_divergence_ratio',
    'The highest divergence ratio the last completed ferry verify run accepted (--max-divergence); above it verify exits 4',
    run.maxDivergence,
  );
  gauge(
    'ferry_verify_missing_items',
    `Items the mapping makes of source rows that DynamoDB lacks, ${found}`,
    report.missing,
    table,
  );
  if (report.checkedExtras)
    gauge(
      'ferry_verify_extra_items',
      `Items in DynamoDB that no source row makes, ${found} (only a full run looks for them: absent after --sample)`,
      report.extra,
      table,
    );
  gauge(
    'ferry_verify_different_items',
    `Items whose attributes differ from what the mapping makes of their source row, ${found}`,
    report.different,
    table,
  );
  gauge(
    'ferry_verify_unmappable_rows',
    `Source rows the mapping throws on or makes an invalid item of, ${found}`,
    report.unmappable,
    table,
  );
  gauge(
    'ferry_verify_source_rows',
    'Source rows the last completed ferry verify run read and compared (with --sample, the sampled ones)',
    report.sourceRows,
    table,
  );
  gauge(
    'ferry_verify_sample_ratio',
    'Share of source rows the last completed ferry verify run checked: --sample / 100, 1 for a full run',
    (run.samplePercent ?? 100) / 100,
    table,
  );
  gauge(
    'ferry_verify_duration_seconds',
    'How long the last completed ferry verify run took, a --repair included',
    seconds(run.endedAt - run.startedAt),
    table,
  );
  lastRun(run.endedAt, true);
  gauge(
    'ferry_verify_last_success_timestamp_seconds',
    'When a ferry verify run last completed and measured, whatever the divergence it found (Unix time)',
    seconds(run.endedAt),
  );
  return registry;
}

/**
 * Records a run that failed (HTTP POST): only the last run's time, `last_run_succeeded` 0 and the
 * schedule interval are replaced, so the last success's time and measurements stay.
 */
async function pushVerifyFailure(target: PushTarget, endedAt: number): Promise<void> {
  const { registry, lastRun } = metrics(target);
  lastRun(endedAt, false);
  await send(target, registry, 'pushAdd');
}

/**
 * Runs `work`; when it throws and a target is given, pushes the failure first, then throws the
 * same error, so its exit code stays. A failure that cannot be pushed is said on stderr.
 */
export async function pushingFailure<T>(target: PushTarget | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (target)
      await pushVerifyFailure(target, Date.now()).catch((pushErr: Error) =>
        process.stderr.write(`ferry: ${pushErr.message}\n`),
      );
    throw err;
  }
}
