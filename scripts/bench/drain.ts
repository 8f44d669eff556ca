/**
 * Child process of bench.ts: drains a backlog topic with ferry into a sink that acknowledges writes
 * without keeping them (as DynamoDB keeps items elsewhere), so the RSS is the worker's own. Samples
 * RSS every 250 ms; prints one JSON line on stdout. Run alone so the producer's memory is apart.
 *   node --import tsx scripts/bench/drain.ts '{"topic":"...","groupId":"...","table":"...","messages":1000000}'
 */
import type { Sink } from '../../src/core/batch';
import { benchConfig, benchKafka, benchMapping, startFerry } from './ferry-run';

export interface DrainArgs {
  topic: string;
  groupId: string;
  table: string;
  messages: number;
}

export interface DrainResult {
  seconds: number;
  cpuSeconds: number;
  baselineRssMb: number;
  peakRssMb: number;
  /** At the peak: V8's heap, and the memory outside it (Buffers: fetched record batches). */
  atPeak: { heapTotalMb: number; externalMb: number };
  samples: number;
  chunks: number;
  writes: number;
  acknowledged: number;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

async function main() {
  const args = JSON.parse(process.argv[2] ?? '') as DrainArgs;
  const config = benchConfig();
  const mapping = await benchMapping(args.table);
  let acknowledged = 0;
  const sink: Sink = {
    write: async (intents) => {
      acknowledged += intents.length;
      return { written: intents, stale: [], failed: [] };
    },
  };
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  let atPeak = { heapTotalMb: 0, externalMb: 0 };
  let samples = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    if (usage.rss > peak) {
      peak = usage.rss;
      atPeak = { heapTotalMb: Math.round(mb(usage.heapTotal)), externalMb: Math.round(mb(usage.external)) };
    }
  };
  const sampler = setInterval(() => {
    sample();
    samples++;
  }, 250);
  const run = await startFerry({
    kafka: benchKafka(config),
    config,
    topic: args.topic,
    groupId: args.groupId,
    mapping,
    sink,
  });
  const { seconds, cpuSeconds, chunks, writes } = await run.drained(args.messages);
  clearInterval(sampler);
  sample();
  await run.stop();
  const result: DrainResult = {
    seconds,
    cpuSeconds,
    baselineRssMb: mb(baseline),
    peakRssMb: mb(peak),
    atPeak,
    samples,
    chunks,
    writes,
    acknowledged,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
