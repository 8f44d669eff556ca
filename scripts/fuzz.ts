/**
 * The long value round trip: `npm run fuzz -- [--rows 20000] [--seed N] [--format json|avro]` (the local stack running).
 * Generated rows of every column type go through the real connector and worker into DynamoDB
 * Local; it prints what was checked and every disagreement, and exits 1 on any.
 */
import { parseArgs } from 'node:util';
import { valueRoundTrip } from '../test/support/value-round-trip';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    format: { type: 'string', default: 'json' },
  },
});
const rows = Number(values.rows);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const format = values.format;
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(seed) || (format !== 'json' && format !== 'avro')) {
  console.error('usage: npm run fuzz -- [--rows <count>] [--seed <integer>] [--format json|avro]');
  process.exit(2);
}

void (async () => {
  const workerLog = `.stack/fuzz-${seed}.log`;
  const report = await valueRoundTrip({ rows, seed, format, workerLog, log: (line) => console.log(`fuzz: ${line}`) });
  let problems = 0;
  console.log(
    `fuzz: seed ${report.seed}: ${report.rows} rows of ${report.columns} columns, ${report.changes} changes, ${report.seconds} s`,
  );
  for (const [mode, m] of Object.entries(report.modes)) {
    const v = m.verify;
    const e = m.expectedVerify;
    const verifyOk =
      v.missing === e.missing && v.extra === e.extra && v.different === e.different && v.unmappable === e.unmappable;
    console.log(
      `fuzz: numberOverflow=${mode}: ${m.items} items, ${m.mismatchCount} mismatched; ${m.deadLetters} dead letters, ${m.letterMismatches.length} unexpected; verify exit ${v.code}: ${v.missing} missing, ${v.extra} extra, ${v.different} different, ${v.unmappable} unmappable (oracle: ${e.extra} extra, ${e.different} different: YEAR 0000 read by the snapshot, ${e.unmappable} unmappable); ${m.blockedPartitions} partitions blocked`,
    );
    for (const line of [...m.mismatches, ...m.letterMismatches, ...m.verifyExamples]) console.log(`fuzz:   ${line}`);
    problems +=
      m.mismatchCount + m.letterMismatches.length + m.verifyExamples.length + m.blockedPartitions + (verifyOk ? 0 : 1);
  }
  console.log(
    problems === 0
      ? 'fuzz: no disagreement'
      : `fuzz: ${problems} disagreements (rerun: npm run fuzz -- --rows ${rows} --seed ${seed} --format ${format})`,
  );
  process.exit(problems === 0 ? 0 : 1);
})().catch((err: unknown) => {
  console.error(`fuzz: seed ${seed}:`, err);
  process.exit(1);
});
