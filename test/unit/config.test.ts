import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_PATHS, envName, loadConfig } from '../../src/config/config';
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

  it('refuses a key in the file that is not a setting, naming the nearest one', () => {
    const file = join(tmpdir(), `ferry-config-keys-${process.pid}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        mapping: 'm.ts',
        pipline: { maxChunk: 10 },
        kafka: { brokerz: 'b:1', sasl: { mechanism: 'plain', username: 'u', password: 'p', pasword: 'p' } },
      }),
    );
    expect(() => loadConfig({ file, env: {} })).toThrow(/\(root\): not a setting: pipline \(did you mean pipeline\?\)/);
    expect(() => loadConfig({ file, env: {} })).toThrow(/kafka: not a setting: brokerz \(did you mean brokers\?\)/);
    expect(() => loadConfig({ file, env: {} })).toThrow(
      /kafka\.sasl: not a setting: pasword \(did you mean password\?\)/,
    );
    writeFileSync(file, JSON.stringify({ dynamodb: { zzz: 1 } }));
    // Nothing near: the key alone.
    expect(() => loadConfig({ file, env: {} })).toThrow(/dynamodb: not a setting: zzz$/m);
  });

  it('reports each FERRY_ variable that is not a setting, and no other', () => {
    const said: string[] = [];
    const config = loadConfig({
      env: { FERRY_PIPELINE_MAX_CHUNKS: '10', FERRY_PIPELINE_MAX_CHUNK: '20', FERRY_WHATEVER: 'x', HOME: '/' },
      warn: (m) => said.push(m),
    });
    expect(config.pipeline.maxChunk).toBe(20);
    expect(said).toEqual([
      'ignoring FERRY_PIPELINE_MAX_CHUNKS (did you mean FERRY_PIPELINE_MAX_CHUNK?), FERRY_WHATEVER: not a setting ferry reads',
    ]);
    const known = [...ENV_PATHS.map(envName), 'FERRY_CONFIG'];
    fc.assert(
      fc.property(
        fc.subarray(known),
        fc.array(fc.stringMatching(/^[A-Z_]{1,30}$/), { maxLength: 4 }),
        (set, others) => {
          const unknown = others.map((o) => `FERRY_${o}`).filter((n) => !known.includes(n));
          const told: string[] = [];
          // FERRY_CONFIG names a file: left out here, where there is none.
          const env = Object.fromEntries([...set.filter((n) => n !== 'FERRY_CONFIG'), ...unknown].map((n) => [n, '']));
          loadConfig({ env, warn: (m) => told.push(m) });
          if (unknown.length === 0) expect(told).toEqual([]);
          else for (const name of unknown) expect(told[0]).toContain(name);
          for (const name of set) expect(told.join()).not.toMatch(new RegExp(`(^|[ ,])${name}[ :,]`));
        },
      ),
    );
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
