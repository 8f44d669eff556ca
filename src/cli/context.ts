import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { type Config, loadConfig } from '../config/config';
import { ConfigError, FerryError } from '../core/errors';
import type { Mapping } from '../mapping/define-mapping';
import { loadMapping } from '../mapping/load-mapping';
import { type Logger, createLogger } from '../observability/logger';
import { createKafka } from '../source/kafka/kafka-client';
import { topicFor } from '../source/debezium/connector-config';
import { groupFor } from '../worker';

export interface CommandOptions {
  mapping?: string;
  config?: string;
}

/** `--mapping` names a module path, or <name>.ts / <name>.js in the mappings directory. */
export function resolveMappingPath(nameOrPath: string, mappingsDir: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  for (const ext of ['.ts', '.js']) {
    const candidate = join(mappingsDir, `${nameOrPath}${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  const known = existsSync(mappingsDir)
    ? readdirSync(mappingsDir)
        .filter((f) => /\.(ts|js)$/.test(f) && !f.includes('.test.'))
        .map((f) => f.replace(/\.(ts|js)$/, ''))
    : [];
  throw new ConfigError(
    `unknown mapping "${nameOrPath}": no such file and no ${mappingsDir}/${nameOrPath}.ts (known: ${known.join(', ') || 'none'})`,
  );
}

export interface CommandContext {
  config: Config & { mapping: string };
  logger: Logger;
  mapping: Mapping;
  topic: string;
  groupId: string;
  kafka: () => Kafka;
  /** A connected admin client, closed by `close()`. */
  admin: () => Promise<Admin>;
  close: () => Promise<void>;
}

/** Configuration, logger and the mapping a command works on; clients are made on first use. */
export async function commandContext(
  opts: CommandOptions,
  options: { logToStderr?: boolean; logLevel?: string } = { logToStderr: true, logLevel: 'warn' },
): Promise<CommandContext> {
  const base = loadConfig({ file: opts.config, overrides: opts.mapping ? { mapping: opts.mapping } : {} });
  if (!base.mapping) throw new ConfigError('no mapping: pass --mapping <name or path>, or set FERRY_MAPPING');
  const config = { ...base, mapping: resolveMappingPath(base.mapping, base.mappingsDir) };
  // The worker logs to stdout; operator commands keep stdout for their output (and --json).
  const logger = createLogger(options.logLevel ?? config.log.level, options.logToStderr ? 2 : 1);
  const mapping = await loadMapping(config.mapping);
  let kafka: Kafka | undefined;
  let admin: Admin | undefined;
  const getKafka = () => (kafka ??= createKafka(config.kafka, logger));
  return {
    config,
    logger,
    mapping,
    topic: topicFor(config.kafka.topicPrefix, mapping),
    groupId: groupFor(config, mapping),
    kafka: getKafka,
    admin: async () => {
      if (!admin) {
        admin = getKafka().admin();
        await admin.connect().catch((err: Error) => {
          if (err instanceof ConfigError) throw err;
          throw new FerryError(
            `cannot reach Kafka at ${config.kafka.brokers.join(',')}: ${err.message} (check FERRY_KAFKA_BROKERS)`,
          );
        });
      }
      return admin;
    },
    close: async () => {
      await admin?.disconnect();
    },
  };
}
