import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFerry } from '../support/cli';
import { loadMessages, variants } from '../fixtures/debezium/fixtures';

/** `ferry mapping test` on captured events: a change of another table is skipped, as a worker skips it. */
describe('cli > mapping test', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mapping-test-'));
  const captured = loadMessages(variants[0] as (typeof variants)[number]).filter((m) => m.value !== null);
  const first = captured[0] as { value: string };
  const { source, after } = (
    JSON.parse(first.value) as { payload: { source: { db: string; table: string }; after: { id: number } } }
  ).payload;
  const { db, table } = source;
  const events = join(dir, 'events.jsonl');
  writeFileSync(events, `${JSON.stringify({ value: first.value })}\n`);
  const mapping = (file: string, source: string) => {
    const path = join(dir, file);
    writeFileSync(
      path,
      `import { defineMapping } from 'ferry';
export default defineMapping<any>({
  name: 'm', source: { table: '${source}' }, target: { table: 'things', partitionKey: 'pk' },
  key: (row) => ({ pk: 'T#' + row.id }), item: () => ({}),
});
`,
    );
    return path;
  };

  it("maps the mapping's own table's changes", async () => {
    const result = await runFerry('mapping', 'test', mapping('own.ts', `${db}.${table}`), events, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ line: 1, intents: [{ kind: 'put', key: { pk: `T#${after.id}` } }] });
  });

  it("skips another table's, naming it", async () => {
    const other = await runFerry('mapping', 'test', mapping('other.ts', `${db}.other`), events);
    expect([other.code, other.out]).toEqual([0, `line 1: skipped (a change of ${db}.${table}, not ${db}.other)\n`]);
  });
});
