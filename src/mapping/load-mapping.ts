import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createJiti } from 'jiti';
import { ConfigError, describe } from '../core/errors';
import { type Mapping, compileMapping } from './define-mapping';

// Mapping modules import 'ferry' and 'ferry/testing'; point those at this installation.
const options = {
  alias: {
    'ferry/testing': resolve(__dirname, 'testing'),
    ferry: resolve(__dirname, '..', 'index'),
  },
  interopDefault: true,
};
const jiti = createJiti(__filename, options);
// A long-running reader (the console) sees a mapping module as it is now, not as first imported.
const freshJiti = createJiti(__filename, { ...options, moduleCache: false });

/** Loads a mapping module (.ts or .js) and validates its default export; `fresh` reads the file again. */
export async function loadMapping(path: string, { fresh = false } = {}): Promise<Mapping> {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigError(`mapping module ${path} not found`);
  let exported: unknown;
  try {
    exported = await (fresh ? freshJiti : jiti).import(file, { default: true });
  } catch (err) {
    throw new ConfigError(`mapping module ${path} failed to load: ${describe(err)}`, { cause: err });
  }
  return compileMapping(exported, path);
}
