/** Splits items, in order, into runs of at most `limit` by `size` (a larger item goes alone). */
export function runsOf<T>(items: readonly T[], limit: number, size: (item: T) => number): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let total = 0;
  for (const item of items) {
    const n = size(item);
    if (run.length > 0 && total + n > limit) {
      runs.push(run);
      run = [];
      total = 0;
    }
    run.push(item);
    total += n;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
