import { Command, Option } from 'commander';
import { ConfigError } from '../../core/errors';
import { sourceGrants } from '../../deploy/grants';
import { ROLES, type Role, iamPolicy } from '../../deploy/iam';
import { appliedTopic } from '../../pipeline/applied-log';
import { deadLetterTopic } from '../../pipeline/dead-letters';
import { auditTopic } from '../../source/kafka/audit';
import { commandContext } from '../context';
import { json, print } from '../output';

interface IamOptions {
  mapping: string;
  config?: string;
  role: Role;
  account: string;
  region: string;
  partition: string;
  createTables?: boolean;
  repair?: boolean;
  kmsKeyArn?: string;
  mskCluster?: string;
}

/** `ferry iam`: the least-privilege IAM policy a role needs for one mapping's tables. */
export function iamCommand(): Command {
  return new Command('iam')
    .description("Print the IAM policy (JSON) a role needs for a mapping's DynamoDB tables: exactly the calls it makes")
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .addOption(new Option('--role <role>', 'who runs it').choices([...ROLES]).default('worker'))
    .requiredOption('--account <id>', 'the AWS account id of the tables')
    .requiredOption('--region <region>', 'the AWS region of the tables')
    .option('--partition <partition>', 'the AWS partition', 'aws')
    .option('--create-tables', 'the worker creates missing tables (FERRY_DYNAMODB_CREATE_TABLES)')
    .option('--repair', 'verify also repairs (verify --repair)')
    .option('--kms-key-arn <arn>', 'the customer managed key the tables are encrypted with')
    .option('--msk-cluster <arn>', 'an MSK cluster with IAM authentication: adds its kafka-cluster statements')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: IamOptions) => {
      const ctx = await commandContext(opts);
      try {
        if (opts.repair && opts.role !== 'verify') throw new ConfigError('--repair is for --role verify');
        if (opts.createTables && opts.role !== 'worker') throw new ConfigError('--create-tables is for --role worker');
        const prefix = ctx.config.kafka.topicPrefix;
        print(
          json(
            iamPolicy({
              ...opts,
              targetTable: ctx.mapping.targetTable,
              deletesTable: ctx.config.dynamodb.deletesTable,
              msk: opts.mskCluster
                ? {
                    clusterArn: opts.mskCluster,
                    topic: ctx.topic,
                    groupId: ctx.groupId,
                    deadLetterTopic: deadLetterTopic(prefix, ctx.mapping.name),
                    auditTopic: auditTopic(prefix),
                    appliedTopic: appliedTopic(prefix, ctx.mapping.name),
                  }
                : undefined,
            }),
          ),
        );
        if (!opts.kmsKeyArn)
          process.stderr.write(
            'ferry iam: tables encrypted with a customer managed key also need kms:Decrypt (and for writers kms:Encrypt, kms:GenerateDataKey*) on it through DynamoDB: pass --kms-key-arn\n',
          );
      } finally {
        await ctx.close();
      }
    });
}

interface GrantsOptions {
  mapping: string;
  config?: string;
  source: 'mysql' | 'mariadb';
  cdcUser: string;
  workerUser: string;
  verifyUser: string;
  host: string;
}

/** `ferry grants`: the database accounts and grants ferry's users need for one mapping's table. */
export function grantsCommand(): Command {
  return new Command('grants')
    .description("Print the SQL that creates ferry's database users with the grants each needs for a mapping's table")
    .requiredOption('-m, --mapping <mapping>', 'mapping name or module path')
    .addOption(new Option('--source <kind>', 'the source server').choices(['mysql', 'mariadb']).default('mysql'))
    .option('--cdc-user <user>', "Debezium's connector user", 'ferry_cdc')
    .option('--worker-user <user>', 'the user of FERRY_SOURCE_URL for ferry run and ferry snapshot', 'ferry')
    .option('--verify-user <user>', 'the user of FERRY_SOURCE_URL for ferry verify', 'ferry_verify')
    .option('--host <host>', 'where the users connect from', '%')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: GrantsOptions) => {
      const ctx = await commandContext(opts);
      try {
        print(
          sourceGrants({
            ...opts,
            table: ctx.mapping.sourceTable,
            signalTable: ctx.config.source.signalTable,
          }).trimEnd(),
        );
      } finally {
        await ctx.close();
      }
    });
}
