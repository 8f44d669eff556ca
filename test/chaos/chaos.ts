/**
 * npm run chaos -- [--short] [--only <nemesis,...>] [--json <file>] [--seed <n>] [--rate <changes/s>]
 *
 * Injects each fault during real load on the local stack (scripts/stack.sh up), then checks the end
 * state with `ferry verify` and with an independent scan. Exits 1 when any nemesis finds a loss.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { NEMESES } from './nemeses';
import { type NemesisReport, Trial, type TrialSettings } from './trial';

export const DEFAULT_RATE = 250;

export async function runNemesis(name: string, settings: TrialSettings): Promise<NemesisReport> {
  const nemesis = NEMESES.find((n) => n.name === name);
  if (!nemesis) throw new Error(`unknown nemesis '${name}' (${NEMESES.map((n) => n.name).join(', ')})`);
  const trial = new Trial(nemesis, settings);
  try {
    return await trial.run();
  } finally {
    await trial.tearDown();
  }
}

const number = (n: number) => n.toLocaleString('en-US');

/** The report as a Markdown table, one row per nemesis. */
export function reportTable(reports: NemesisReport[]): string {
  const rows = reports.map((r) => [
    r.nemesis,
    number(r.changes),
    number(r.faults),
    `${number(r.redelivered)}${r.sourceDuplicates ? ` + ${number(r.sourceDuplicates)} from Debezium` : ''}`,
    number(r.maxLag),
    `${r.recoverySeconds.toFixed(1)} s`,
    `${number(r.freshnessMs)} ms`,
    number(r.deadLetters),
    number(r.divergent),
    r.verifyAgreed ? `yes (${r.verifyDivergent})` : `no (${r.verifyDivergent})`,
    Object.entries(r.figures)
      .map(([k, v]) => `${k} ${number(v)}`)
      .join(', '),
  ]);
  const header = [
    'nemesis',
    'changes',
    'faults',
    'redelivered',
    'max lag',
    'recovery',
    'freshness after',
    'dead letters',
    'divergent',
    'verify agreed',
    'other',
  ];
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
      seed: { type: 'string', default: '42' },
      rate: { type: 'string', default: String(DEFAULT_RATE) },
    },
  });
  const names = values.only ? values.only.split(',') : NEMESES.map((n) => n.name);
  for (const name of names)
    if (!NEMESES.some((n) => n.name === name))
      throw new Error(`unknown nemesis '${name}' (${NEMESES.map((n) => n.name).join(', ')})`);
  const settings: TrialSettings = {
    short: values.short,
    seed: Number(values.seed),
    rate: Number(values.rate),
    log: (line) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`),
  };
  const started = new Date();
  const reports: NemesisReport[] = [];
  const broken: string[] = [];
  for (const name of names) {
    try {
      const report = await runNemesis(name, settings);
      reports.push(report);
      settings.log(
        `[${name}] ${report.failures.length ? `FAILED: ${report.failures.join('; ')}` : 'passed'} in ${report.durationSeconds} s`,
      );
    } catch (err) {
      // A nemesis that never recovered has no end state to report; the others still run.
      broken.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      settings.log(`[${name}] FAILED: ${broken.at(-1)}`);
    }
  }
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB`;
  console.log(
    `ferry chaos ${values.short ? '--short ' : ''}on ${started.toISOString().slice(0, 10)}, ${machine}, seed ${settings.seed}\n`,
  );
  console.log(reportTable(reports));
  if (values.json)
    writeFileSync(
      values.json,
      JSON.stringify({ date: started.toISOString(), machine, ...settings, log: undefined, reports, broken }, null, 2),
    );
  const failed = reports.filter((r) => r.failures.length > 0);
  for (const r of failed) console.log(`\n${r.nemesis} failed:\n- ${r.failures.join('\n- ')}`);
  for (const line of broken) console.log(`\nfailed without recovering: ${line}`);
  process.exitCode = failed.length || broken.length ? 1 : 0;
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(2);
  });
