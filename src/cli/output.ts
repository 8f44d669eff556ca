/** Aligned plain-text tables for people; `--json` output for scripts. */
export function table(rows: readonly object[], columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? Object.keys(rows[0] as object);
  const cells = rows.map((r) =>
    cols.map((c) => {
      const v = (r as Record<string, unknown>)[c];
      return v === null || v === undefined ? '-' : String(v);
    }),
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(cols), ...cells.map(line)].join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
