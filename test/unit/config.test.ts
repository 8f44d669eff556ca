import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, loadConfig } from '../../src/config/config';

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
  });

  it('names the field, its variable and what was expected', () => {
    expect(() =>
      loadConfig({ env: { FERRY_MAPPING: 'm.ts', FERRY_DYNAMODB_WRITE_CONCURRENCY: 'lots', FERRY_FORMAT: 'xml' } }),
    ).toThrow(/format \(FERRY_FORMAT\): .*\n.*dynamodb\.writeConcurrency \(FERRY_DYNAMODB_WRITE_CONCURRENCY\): /);
    expect(loadConfig({ env: {} }).mapping).toBeUndefined();
  });
});
