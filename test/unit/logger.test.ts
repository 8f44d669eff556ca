import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Runs the real logger in its own process and returns the JSON lines it printed. */
function logLines(script: string): Array<Record<string, unknown>> {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '-e', `const { createLogger } = require('./src/observability/logger'); ${script}`],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('observability > logger', () => {
  it('writes structured JSON and redacts secrets wherever they sit', () => {
    const [line] = logLines(
      `createLogger('info').info({ kafka: { sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } }, credentials: { secretAccessKey: 'abc' }, password: 'p' }, 'connected');`,
    );
    expect(line).toMatchObject({
      level: 30,
      service: 'ferry',
      msg: 'connected',
      password: '[redacted]',
      credentials: '[redacted]',
    });
    expect(JSON.stringify(line)).not.toMatch(/hunter2|abc"|"p"/);
  });
});
