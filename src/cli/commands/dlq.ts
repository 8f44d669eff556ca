import { Command } from 'commander';
import type { KafkaMessage } from 'kafkajs';
import { deadLetterTopic } from '../../pipeline/dead-letters';
import {
  type DeadLetterView,
  emptyReport,
  redriveDeadLetters,
  redriveGroup,
  viewDeadLetter,
} from '../../pipeline/redrive';
import { describeDuration, topicPolicy } from '../../source/kafka/history';
import { groupOffsets } from '../../source/kafka/offsets';
import { readRange } from '../../source/kafka/read-range';
import { wholeNumber } from '../arguments';
import { EXIT } from '../exit-codes';
import { commandContext, type CommandContext } from '../context';
import { json, print, table } from '../output';
import { progressBar } from '../progress';

interface Opts {
  mapping: string;
  config?: string;
  json?: boolean;
}

const withMapping = (cmd: Command) =>
  cmd
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output');

/** The dead-letter topic, and whether it exists: a worker of the mapping creates it when it first starts. */
async function letterTopic(ctx: CommandContext): Promise<{ topic: string; exists: boolean }> {
  const topic = deadLetterTopic(ctx.config.kafka.topicPrefix, ctx.mapping.name);
  return { topic, exists: (await (await ctx.admin()).listTopics()).includes(topic) };
}

const noLetterTopic = (ctx: CommandContext, topic: string) =>
  `no dead letters: ${topic} does not exist (a worker of ${ctx.mapping.name} creates it when it starts)`;

async function readLetters(ctx: CommandContext, topic: string): Promise<DeadLetterView[]> {
  const letters: DeadLetterView[] = [];
  await readRange(ctx.kafka(), {
    topic,
    onBatch: async (partition, messages: KafkaMessage[]) =>
      void letters.push(...messages.map((m) => viewDeadLetter(partition, m))),
  });
  return letters;
}

/** `ferry dlq list|show|redrive`: inspect dead letters and run them through the current mapping. */
export function dlqCommand(setCode: (code: number) => void): Command {
  const dlq = new Command('dlq').description("Inspect a mapping's dead letters and redrive them after a fix");

  withMapping(dlq.command('list'))
    .description('Dead letters by error class, and how many the redrive has not reached yet')
    .action(async (opts: Opts) => {
      const ctx = await commandContext(opts);
      try {
        const { topic, exists } = await letterTopic(ctx);
        if (!exists)
          return print(
            opts.json ? json({ topic: null, total: 0, notRedriven: 0, byErrorClass: [] }) : noLetterTopic(ctx, topic),
          );
        const letters = await readLetters(ctx, topic);
        const pending = (await groupOffsets(await ctx.admin(), redriveGroup(ctx.groupId), topic)).reduce(
          (sum, p) => sum + p.lag,
          0,
        );
        const classes = new Map<string, { errorClass: string; count: number; first: string; last: string }>();
        for (const l of letters) {
          const entry = classes.get(l.errorClass) ?? {
            errorClass: l.errorClass,
            count: 0,
            first: l.failedAt,
            last: l.failedAt,
          };
          entry.count++;
          entry.first = l.failedAt < entry.first ? l.failedAt : entry.first;
          entry.last = l.failedAt > entry.last ? l.failedAt : entry.last;
          classes.set(l.errorClass, entry);
        }
        const admin = await ctx.admin();
        const { retentionMs } = await topicPolicy(admin, topic);
        const partitions = (await admin.fetchTopicOffsets(topic)).length;
        if (opts.json)
          return print(
            json({
              topic,
              partitions,
              retentionMs,
              total: letters.length,
              notRedriven: pending,
              byErrorClass: [...classes.values()],
            }),
          );
        print(
          `${topic} (${partitions} partition${partitions === 1 ? '' : 's'}, letters kept ${describeDuration(retentionMs)}): ${letters.length} dead letters, ${pending} not redriven yet`,
        );
        print(table([...classes.values()], ['errorClass', 'count', 'first', 'last']));
      } finally {
        await ctx.close();
      }
    });

  withMapping(dlq.command('show'))
    .description('Dead letters with their origin, error and message')
    .option('-n, --limit <n>', 'how many, newest last', '20')
    .action(async (opts: Opts & { limit: string }) => {
      const limit = wholeNumber('--limit', opts.limit, 1);
      const ctx = await commandContext(opts);
      try {
        const { topic, exists } = await letterTopic(ctx);
        const letters = exists ? (await readLetters(ctx, topic)).slice(-limit) : [];
        if (opts.json) return print(json(letters));
        for (const l of letters) {
          print(
            `${l.partition}@${l.offset}  from ${l.origin.topic}[${l.origin.partition}]@${l.origin.offset}  ${l.failedAt}`,
          );
          print(`  ${l.errorClass}: ${l.errorMessage}`);
          print(
            `  value: ${l.value === null ? '(null)' : l.value.length > 300 ? `${l.value.slice(0, 300)}…` : l.value}`,
          );
        }
        if (letters.length === 0) print(exists ? '(no dead letters)' : noLetterTopic(ctx, topic));
      } finally {
        await ctx.close();
      }
    });

  withMapping(dlq.command('redrive'))
    .description('Run dead letters not yet redriven through the current mapping; failures become new dead letters')
    .option('--dry-run', 'decode and map only: write nothing, move nothing')
    .action(async (opts: Opts & { dryRun?: boolean }) => {
      const ctx = await commandContext(opts);
      try {
        const { topic, exists } = await letterTopic(ctx);
        if (!exists)
          return print(
            opts.json ? json({ dryRun: opts.dryRun === true, ...emptyReport() }) : noLetterTopic(ctx, topic),
          );
        const bar = progressBar(!opts.json, 'redriving');
        const report = await redriveDeadLetters(ctx.kafka(), ctx.config, ctx.mapping, ctx.groupId, {
          dryRun: opts.dryRun === true,
          onProgress: (n) => bar.update(n),
        });
        bar.stop();
        if (opts.json) return print(json({ dryRun: opts.dryRun === true, ...report }));
        print(
          `${opts.dryRun ? 'dry run: would redrive' : 'redrove'} ${report.messages} dead letters: ${report.written} written, ${report.stale} stale, ${report.filtered} filtered, ${report['dead-lettered']} dead-lettered again, ${report.skipped} skipped, ${report.expired} expired`,
        );
        if (report.expired > 0) {
          setCode(EXIT.failure);
          print(
            `${report.expired} dead letters failed more than ${ctx.config.dynamodb.rememberDeletesDays} days ago (dynamodb.rememberDeletesDays) and were not applied: a delete of their items may be forgotten, so they could bring deleted rows back. They stay in the topic (ferry dlq show); rebuild the table to apply their changes (ferry rebuild).`,
          );
        }
      } finally {
        await ctx.close();
      }
    });
  return dlq;
}
