import { SingleBar } from 'cli-progress';

/** A progress line on stderr for long work; silent when stderr is not a terminal or output is JSON. */
export function progressBar(enabled: boolean, label: string, total = 0) {
  if (!enabled || !process.stderr.isTTY)
    return { update: (_n: number, _total?: number) => undefined, stop: () => undefined };
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
  });
  bar.start(total, 0);
  return {
    update: (n: number, newTotal?: number) => {
      if (newTotal !== undefined) bar.setTotal(newTotal);
      else if (n > bar.getTotal()) bar.setTotal(n);
      bar.update(n);
    },
    stop: () => bar.stop(),
  };
}
