import { Cron } from 'croner';
import { ConfigError } from '../core/errors';

const DAY_MS = 24 * 3600 * 1000;
/** A year of runs sees every month and weekday; a schedule that runs often repeats every week. */
const YEAR_MS = 366 * DAY_MS;
const WEEK_MS = 8 * DAY_MS;
const OFTEN = 1000;

/**
 * The longest time between two consecutive runs of a CronJob schedule, in seconds: what "no
 * success in two schedules" is measured against. Five fields or a macro (`@hourly`, `@daily`),
 * day of month and day of week combined with OR, as Kubernetes reads them; times in UTC (a
 * CronJob's `timeZone` moves its runs, and its gaps change by at most the hour a clock change adds).
 * Runs are looked at from `from` over a year, or over eight days once there are a thousand of them.
 */
export function scheduleIntervalSeconds(expression: string, from = new Date()): number {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: 'UTC', mode: '5-part' });
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    throw new ConfigError(`--schedule "${expression}" is not a cron schedule: ${reason}`);
  }
  const runs: number[] = [];
  for (let next = cron.nextRun(from); next; next = cron.nextRun(next)) {
    runs.push(next.getTime());
    const span = next.getTime() - (runs[0] as number);
    if (runs.length >= 2 && (span >= YEAR_MS || (span >= WEEK_MS && runs.length >= OFTEN))) break;
  }
  if (runs.length < 2) throw new ConfigError(`--schedule "${expression}" never runs twice`);
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, (runs[i] as number) - (runs[i - 1] as number));
  return longest / 1000;
}
