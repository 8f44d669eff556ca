import { Command } from 'commander';
import { connectClient } from '../../source/connect/connect-client';
import { auditTopic, recordAudit } from '../../source/kafka/audit';
import { repartitionTopic } from '../../source/kafka/repartition';
import { wholeNumber } from '../arguments';
import { commandContext } from '../context';
import { json, print, table } from '../output';

interface RepartitionOpts {
  mapping: string;
  partitions: string;
  connector?: string;
  drainTimeout: string;
  dryRun?: boolean;
  config?: string;
  json?: boolean;
}

const seconds = (ms = 0) => (ms / 1000).toFixed(1);

/** `ferry topic repartition`: changes to a mapping's topic that keep a row's changes in one partition. */
export function topicCommand(): Command {
  const topic = new Command('topic').description("Change a mapping's Kafka topic without breaking per-row order");

  topic
    .command('repartition')
    .description(
      "Grow the topic's partitions safely: stop the connector, wait until the group has processed everything, add the partitions, put the connector back",
    )
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .requiredOption('--partitions <count>', 'the new partition count (larger than the current one)')
    .option('--connector <name>', 'the Kafka Connect connector writing the topic (default: found by its topics)')
    .option(
      '--drain-timeout <seconds>',
      'how long the group may take to catch up; then refuse, changing nothing',
      '300',
    )
    .option('--dry-run', 'print the plan (connector, partitions, lag per partition), change nothing')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: RepartitionOpts) => {
      const partitions = wholeNumber('--partitions', opts.partitions, 1);
      const drainTimeoutSeconds = wholeNumber('--drain-timeout', opts.drainTimeout, 1);
      const ctx = await commandContext(opts);
      try {
        const admin = await ctx.admin();
        const prefix = ctx.config.kafka.topicPrefix;
        const result = await repartitionTopic(
          {
            topic: ctx.topic,
            groupId: ctx.groupId,
            partitions,
            connector: opts.connector,
            dryRun: opts.dryRun === true,
            drainTimeoutMs: drainTimeoutSeconds * 1000,
          },
          {
            admin,
            connect: connectClient(ctx.config.connect.url),
            audit: (detail) =>
              recordAudit(ctx.kafka(), prefix, {
                action: 'topic.repartition',
                group: ctx.groupId,
                topic: ctx.topic,
                detail,
              }),
            progress: (line) => process.stderr.write(`${line}\n`),
          },
        );
        if (opts.json) return print(json(result));
        print(
          `${result.topic}: ${result.from} -> ${result.to} partitions; connector ${result.connector} (${result.connectorState}); group ${result.group}: lag ${result.totalLag}, ${result.members} member(s)`,
        );
        if (result.dryRun) {
          print(table(result.partitions, ['partition', 'committed', 'end', 'lag']));
          print(
            'dry run: nothing changed. The run stops the connector, waits for lag 0 on every partition, adds the partitions and puts the connector back',
          );
          return;
        }
        print(
          `${result.topic} now has ${result.to} partitions; the group drained in ${seconds(result.drainedMs)} s; connector ${result.connector} put back after ${seconds(result.connectorStoppedMs)} s; audit entries in ${auditTopic(prefix)}`,
        );
      } finally {
        await ctx.close();
      }
    });
  return topic;
}
