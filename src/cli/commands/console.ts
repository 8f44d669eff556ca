import { Command } from 'commander';
import { loadConfig } from '../../config/config';
import { ConfigError } from '../../core/errors';
import { createLogger } from '../../observability/logger';
import { accessRules } from '../../console/access';
import { ConsoleData } from '../../console/console-data';
import { consoleApp, startConsoleServer } from '../../console/server';
import { createKafka } from '../../source/kafka/kafka-client';
import { wholeNumber } from '../arguments';
import { print } from '../output';

interface Opts {
  mappings?: string;
  host: string;
  port: string;
  workers?: string;
  workerPort?: string;
  pageSize: string;
  readOnly?: boolean;
  config?: string;
}

/** Worker URLs from `--workers`: each an http(s) URL; the error names the one that is not. */
export function parseWorkers(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => {
      if (!/^https?:\/\/[^/]+/.test(u)) throw new ConfigError(`--workers: "${u}" is not an http:// or https:// URL`);
      return u;
    });
}

/** `ferry console`: an operator's web page over every mapping of a directory, until SIGTERM or SIGINT. */
export function consoleCommand(): Command {
  return new Command('console')
    .description(
      'Serve a web page on the mappings of a directory: group members, lag, events/s, freshness, blocked partitions; dead letters to filter, open, retry or mark resolved',
    )
    .option('--mappings <dir>', 'directory of mapping modules (default: FERRY_MAPPINGS_DIR, mappings)')
    .option(
      '--host <address>',
      'address to bind; anything but loopback needs FERRY_CONSOLE_TOKEN or basic credentials',
      '127.0.0.1',
    )
    .option('-p, --port <port>', 'port to listen on (0: any free one)', '9470')
    .option(
      '--workers <urls>',
      "workers' HTTP servers (/status, /metrics), comma-separated; default: the groups' members at --worker-port",
    )
    .option(
      '--worker-port <port>',
      "the workers' FERRY_HTTP_PORT, for finding them from the group members (default: FERRY_HTTP_PORT, 9464)",
    )
    .option('--page-size <n>', 'dead letters per page', '50')
    .option('--read-only', 'show, never act: no action buttons, every action request refused (403)')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: Opts) => {
      const config = loadConfig({ file: opts.config, overrides: opts.mappings ? { mappingsDir: opts.mappings } : {} });
      const pageSize = wholeNumber('--page-size', opts.pageSize, 1, 1000);
      const rules = accessRules(opts.host, config.console, opts.readOnly === true);
      const workers = parseWorkers(opts.workers);
      const workerPort =
        opts.workerPort === undefined ? config.http.port : wholeNumber('--worker-port', opts.workerPort, 0, 65535);
      const listenPort = wholeNumber('--port', opts.port, 0, 65535);
      const logger = createLogger(config.log.level, 2);
      const kafka = createKafka(config.kafka, logger);
      const data = new ConsoleData(config, kafka, { mappingsDir: config.mappingsDir, workers, workerPort, pageSize });
      await data.mappings();
      const { url, close } = await startConsoleServer(consoleApp(data, rules, logger), opts.host, listenPort);
      const access = rules.token ? 'token' : rules.basic ? 'basic credentials' : 'loopback only';
      print(
        `ferry console on ${url} (${access}${rules.readOnly ? ', read-only' : ''}); mappings in ${config.mappingsDir}`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await close();
    });
}
