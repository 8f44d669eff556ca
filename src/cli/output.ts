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

/** JSON with ferry's values shown as they are stored: exact numbers, sets as lists, binary as base64. */
export function json(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    function (this: Record<string, unknown>, key: string, v: unknown) {
      const original = this[key];
      if (typeof original === 'bigint') return original.toString();
      if (original instanceof Uint8Array) return { base64: Buffer.from(original).toString('base64') };
      if (original instanceof Set) return [...original];
      if (original !== null && typeof original === 'object' && 'toAttributeValue' in original) return String(original);
      return v;
    },
    indent,
  );
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
