import { Command } from 'commander';
import { ConfigError } from '../../core/errors';
import { ensureDeletesTable } from '../../sink/dynamodb/deletes';
import { createDynamoDbClient } from '../../sink/dynamodb/client';
import { LeanDynamoDb } from '../../sink/dynamodb/lean-client';
import { PUSH_JOB, type PushTarget, pushVerifyResult, pushgatewayUrl, pushingFailure } from '../../verify/push-result';
import { SEGMENT_ITEMS, type VerifyReport, verifyMapping } from '../../verify/reconcile';
import { scheduleIntervalSeconds } from '../../verify/schedule';
import { connectSource } from '../../source/mysql/connection';
import { decimal, wholeNumber } from '../arguments';
import { type CommandContext, commandContext } from '../context';
import { EXIT } from '../exit-codes';
import { json, print, table } from '../output';
import { progressBar } from '../progress';

/** `ferry verify`: does DynamoDB hold what the mapping says of the source table? */
export function verifyCommand(setCode: (code: number) => void): Command {
  return new Command('verify')
    .description(
      'Compare DynamoDB with the mapping applied to the source table; exit 4 when divergence exceeds the threshold',
    )
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .option('--sample <percent>', 'check this percent of source rows (no extra-item check)')
    .option(
      '--segments <n>',
      `parallel scan segments for the extra-item check (default: one per ${SEGMENT_ITEMS.toLocaleString('en-US')} items, at least 4)`,
    )
    .option('--max-divergence <ratio>', 'highest acceptable (missing + extra + different) / items; 0.01 is 1%', '0')
    .option('--repair', 'rewrite divergent items from the source, delete extras (never over a newer change)')
    .option('--table <name>', "verify another DynamoDB table than the mapping's target (e.g. a rebuild's)")
    .option(
      '--pushgateway <url>',
      `push the result to this Prometheus Pushgateway (job ${PUSH_JOB}, grouped by mapping); a failed push fails the command`,
    )
    .option(
      '--schedule <cron>',
      "with --pushgateway: the cron schedule of the job running verify; its longest gap is pushed for the 'no success in 2 schedules' alert",
    )
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        mapping: string;
        sample?: string;
        segments?: string;
        maxDivergence: string;
        repair?: boolean;
        table?: string;
        pushgateway?: string;
        schedule?: string;
        config?: string;
        json?: boolean;
      }) => {
        const sample = opts.sample === undefined ? undefined : decimal('--sample', opts.sample, 0, 100, 'a percent');
        if (sample === 0) throw new ConfigError('--sample 0 checks nothing: give a percent above 0');
        const segments =
          opts.segments === undefined ? undefined : wholeNumber('--segments', opts.segments, 1, 1_000_000);
        const maxDivergence = decimal('--max-divergence', opts.maxDivergence, 0, 1, 'a ratio', '0.01 is 1%');
        const pushgateway = opts.pushgateway === undefined ? undefined : pushgatewayUrl(opts.pushgateway);
        const scheduleInterval = opts.schedule === undefined ? undefined : scheduleIntervalSeconds(opts.schedule);
        if (scheduleInterval !== undefined && pushgateway === undefined)
          throw new ConfigError('--schedule is pushed with the result: give --pushgateway too');
        const startedAt = Date.now();
        const ctx = await commandContext(opts);
        const read = { ...opts, sample, segments, maxDivergence };
        const push: PushTarget | undefined = pushgateway
          ? { url: pushgateway, mapping: ctx.mapping.name, scheduleIntervalSeconds: scheduleInterval }
          : undefined;
        try {
          const report = await pushingFailure(push, () => measure(ctx, read));
          const endedAt = Date.now();
          const within = report.divergenceRatio <= maxDivergence;
          setCode(within ? EXIT.ok : EXIT.diverged);
          printReport(report, read, within);
          if (push) await pushVerifyResult(push, { maxDivergence, samplePercent: sample, startedAt, endedAt }, report);
        } finally {
          await ctx.close();
        }
      },
    );
}

/** Reads the source and DynamoDB and compares them (and repairs, when asked). */
async function measure(
  ctx: CommandContext,
  opts: { sample?: number; segments?: number; repair?: boolean; table?: string; json?: boolean },
): Promise<VerifyReport> {
  const source = await connectSource(ctx.config.source.url);
  // Items are read and written as the worker writes them: the SDK reads an attribute named __proto__ back as undefined.
  const items = new LeanDynamoDb(ctx.config.dynamodb);
  try {
    const dynamo = createDynamoDbClient(ctx.config.dynamodb);
    // A repair remembers the deletes it makes, as the worker does.
    if (opts.repair)
      await ensureDeletesTable(dynamo, ctx.config.dynamodb.deletesTable, ctx.config.dynamodb.createTables);
    const bar = progressBar(!opts.json, 'verifying');
    let scanBar: ReturnType<typeof progressBar> | undefined;
    const report = await verifyMapping(source, dynamo, items, ctx.config, ctx.mapping, {
      samplePercent: opts.sample,
      repair: opts.repair === true,
      table: opts.table,
      segments: opts.segments,
      onProgress: (n, total) => bar.update(n, total),
      onScanProgress: (n, total) => {
        if (!scanBar) {
          bar.stop();
          scanBar = progressBar(!opts.json, 'extra items');
        }
        scanBar.update(n, Math.max(n, total));
      },
    });
    bar.stop();
    scanBar?.stop();
    return report;
  } finally {
    items.destroy();
    await source.end();
  }
}

function printReport(report: VerifyReport, opts: { maxDivergence: number; json?: boolean }, within: boolean): void {
  if (opts.json) return print(json({ ...report, maxDivergence: opts.maxDivergence, within }));
  print(
    `${report.table}: ${report.sourceRows} source rows (read by ${report.sourceKey}) -> ${report.expectedItems} items; ${report.missing} missing, ${report.extra} extra${report.checkedExtras ? '' : ' (not checked when sampling)'}, ${report.different} different, ${report.unmappable} unmappable`,
  );
  print(`divergence ${report.divergenceRatio.toFixed(6)} (max ${opts.maxDivergence}): ${within ? 'OK' : 'DIVERGED'}`);
  if (report.extraCheck && report.extraCheck.keysHeldInMemory > 0)
    print(
      `note: ${report.extraCheck.keysHeldInMemory} item keys are not a template of a unique key's columns; verify held them in memory to find extra items`,
    );
  if (report.examples.length > 0)
    print(
      table(
        report.examples.map((e) => ({
          kind: e.kind,
          key: JSON.stringify(e.key),
          detail: e.error ?? (e.actual ? `${JSON.stringify(e.actual)} != ${JSON.stringify(e.expected)}` : ''),
        })),
      ),
    );
  if (report.repaired)
    print(
      `repaired: ${report.repaired.written} written, ${report.repaired.deleted} deleted, ${report.repaired.skippedNewer} left alone (a newer change is already there)`,
    );
}
