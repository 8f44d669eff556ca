import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, loadConfig } from '../../src/config/config';
import { compileMapping } from '../../src/mapping/define-mapping';
import { retryLimit } from '../../src/worker';

describe('config', () => {
  it('derives environment names from setting paths', () => {
    expect(envName('kafka.topicPrefix')).toBe('FERRY_KAFKA_TOPIC_PREFIX');
    expect(envName('dynamodb.writeConcurrency')).toBe('FERRY_DYNAMODB_WRITE_CONCURRENCY');
  });

  it('layers defaults < file < environment < flags', () => {
    const file = join(tmpdir(), `ferry-config-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ mapping: 'from-file.ts', kafka: { clientId: 'file', topicPrefix: 'file' } }));
    const config = loadConfig({
      file,
      env: { FERRY_KAFKA_TOPIC_PREFIX: 'env', FERRY_KAFKA_BROKERS: 'a:1, b:2', FERRY_DYNAMODB_CREATE_TABLES: 'true' },
      overrides: { mapping: 'from-flag.ts' },
    });
    expect(config.mapping).toBe('from-flag.ts');
    expect(config.kafka).toMatchObject({ clientId: 'file', topicPrefix: 'env', brokers: ['a:1', 'b:2'] });
    expect(config.dynamodb.createTables).toBe(true);
    expect(config.dynamodb.writeConcurrency).toBe(32);
    expect(config.dlq.retentionHours).toBe(336);
  });

  it('names the field, its variable and what was expected', () => {
    expect(() =>
      loadConfig({ env: { FERRY_MAPPING: 'm.ts', FERRY_DYNAMODB_WRITE_CONCURRENCY: 'lots', FERRY_FORMAT: 'xml' } }),
    ).toThrow(/format \(FERRY_FORMAT\): .*\n.*dynamodb\.writeConcurrency \(FERRY_DYNAMODB_WRITE_CONCURRENCY\): /);
    expect(loadConfig({ env: {} }).mapping).toBeUndefined();
  });

  it("takes a deployment's retry limit over the mapping's; with neither, retries forever", () => {
    const mapping = (retry?: object) =>
      compileMapping({
        name: 'm',
        source: { table: 'db.t' },
        target: { table: 'Tab', partitionKey: 'pk' },
        key: () => ({ pk: 'x' }),
        item: () => ({}),
        retry,
      });
    const env = { FERRY_RETRY_MAX_ATTEMPTS: '5' };
    expect(retryLimit(loadConfig({ env }), mapping({ maxAttempts: 3, maxDurationMs: 9_000 }))).toEqual({
      maxAttempts: 5,
      maxDurationMs: 9_000,
    });
    expect(retryLimit(loadConfig({ env: {} }), mapping())).toEqual({ maxAttempts: Infinity, maxDurationMs: Infinity });
    expect(() => loadConfig({ env: { FERRY_RETRY_MAX_DURATION_MS: '0' } })).toThrow(/FERRY_RETRY_MAX_DURATION_MS/);
  });
});
