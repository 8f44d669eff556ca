/**
 * Every query the Grafana dashboard and the alert rules run names a metric ferry exports:
 *
 *   tsx scripts/deploy/check-queries.ts [--promql-rules <file>]
 *
 * With --promql-rules it also writes the dashboard's queries as recording rules, so that
 * `promtool check rules` parses them (the dashboard's variables replaced by values).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { FerryEvents } from '../../src/core/events';
import { createMetrics } from '../../src/observability/metrics';
import { completedRun } from '../../src/verify/push-result';
import type { VerifyReport } from '../../src/verify/reconcile';

const ROOT = join(__dirname, '..', '..');
export const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'dashboards', 'ferry.json');
export const ALERTS = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');

/** Series Prometheus and the Pushgateway make themselves: alerts, scrape health, push times. */
const PROMETHEUS_SERIES = ['ALERTS', 'ALERTS_FOR_STATE', 'up', 'push_time_seconds', 'push_failure_time_seconds'];
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'group_left', 'group_right', 'inf', 'nan']);

/** The series names a PromQL expression reads (not its functions, labels, keywords or numbers). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/#[^\n]*/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const before = bare[(match.index ?? 0) - 1] ?? ' ';
    const after = bare.slice((match.index ?? 0) + match[0].length);
    if (/[0-9.]/.test(before) || /^\s*\(/.test(after) || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** What a worker's /metrics serves and a completed verify run pushes, histogram and summary series included. */
export async function ferrySeries(): Promise<Set<string>> {
  const { registry } = createMetrics(new FerryEvents(), 'db.table', { name: 'm', targetTable: 't' });
  const report: VerifyReport = {
    ...{ table: 't', sourceKey: 'id', sourceRows: 1, expectedItems: 1, checkedExtras: true, examples: [] },
    ...{ missing: 0, extra: 0, different: 0, unmappable: 0, divergenceRatio: 0 },
  };
  const run = { maxDivergence: 0, startedAt: 0, endedAt: 1 };
  const verify = completedRun({ url: 'http://pushgateway', mapping: 'm', scheduleIntervalSeconds: 1 }, run, report);
  const series = new Set<string>();
  for (const metric of [...(await registry.getMetricsAsJSON()), ...(await verify.getMetricsAsJSON())]) {
    series.add(metric.name);
    const type = String(metric.type);
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((s) => series.add(metric.name + s));
    if (type === 'summary') ['_sum', '_count'].forEach((s) => series.add(metric.name + s));
  }
  return series;
}

type Panel = { title?: string; targets?: Array<{ expr?: string }>; panels?: Panel[] };

export function dashboardQueries(dashboard: { panels?: Panel[] }): Array<{ where: string; expr: string }> {
  const walk = (panels: Panel[]): Array<{ where: string; expr: string }> =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).flatMap((t) => (t.expr ? [{ where: `panel '${p.title ?? '?'}'`, expr: t.expr }] : [])),
      ...walk(p.panels ?? []),
    ]);
  return walk(dashboard.panels ?? []);
}

export function alertQueries(rules: {
  groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}) {
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: String(r.expr) })),
  );
}

/** The queries that name a series no part of ferry exports. */
export function unknownSeries(queries: Array<{ where: string; expr: string }>, known: Set<string>) {
  return queries.flatMap(({ where, expr }) =>
    metricNames(expr)
      .filter((name) => !known.has(name))
      .map((name) => `${where}: ${name} is not a metric ferry exports`),
  );
}

/** The dashboard's queries as recording rules, its variables replaced by values PromQL parses. */
export function asRecordingRules(queries: Array<{ expr: string }>) {
  const rules = queries.map((q, i) => ({
    record: `ferry:dashboard_query:${i}`,
    expr: q.expr.replace(/\$__(?:rate_)?interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, '$1'),
  }));
  return stringify({ groups: [{ name: 'dashboard', rules }] });
}

async function main() {
  const { values } = parseArgs({ options: { 'promql-rules': { type: 'string' } } });
  const dashboard = dashboardQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  const alerts = alertQueries(parse(readFileSync(ALERTS, 'utf8')));
  const known = new Set([...(await ferrySeries()), ...PROMETHEUS_SERIES]);
  const problems = unknownSeries([...dashboard, ...alerts], known);
  if (values['promql-rules']) writeFileSync(values['promql-rules'], asRecordingRules(dashboard));
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log(
    `check-queries: ${dashboard.length} dashboard and ${alerts.length} alert queries name only ferry's metrics`,
  );
}

if (require.main === module) void main();
