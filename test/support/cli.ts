import { main } from '../../src/cli/index';

/** Runs the ferry CLI in-process, capturing what it prints, as a user would see it. */
export async function runFerry(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const write = (into: (chunk: string) => void) => (chunk: unknown) => (into(String(chunk)), true);
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  process.stdout.write = write((c) => (out += c)) as typeof process.stdout.write;
  process.stderr.write = write((c) => (err += c)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'ferry', ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}
