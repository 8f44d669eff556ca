import type { Row } from '../core/change-event';
import type { Mapping } from './define-mapping';

/** The columns a mapping reads, or 'every' when it enumerates the row (a spread, Object.keys). */
export type ColumnsRead = ReadonlySet<string> | 'every';

/**
 * A value that survives whatever a mapping does with a column: any property is another such
 * value, calling it gives one, and it turns into 1 or "1" where a primitive is needed. So a
 * mapping runs to its end on it and every column it touches on the way is seen.
 */
function anything(): unknown {
  const target = function () {} as unknown as object;
  const proxy: unknown = new Proxy(target, {
    get: (_t, key) => {
      if (key === Symbol.toPrimitive) return (hint: string) => (hint === 'number' ? 1 : '1');
      if (key === Symbol.iterator) return function* () {};
      if (key === 'toJSON') return () => '1';
      if (key === 'then') return undefined;
      return proxy;
    },
    apply: () => proxy,
    construct: () => proxy as object,
  });
  return proxy;
}

/**
 * Runs the mapping on a row of the given columns whose property reads are tracked, and returns
 * the columns it read. Errors the sample values provoke end the run, not the tracking.
 */
export function columnsRead(mapping: Pick<Mapping, 'functions'>, columns: readonly string[]): ColumnsRead {
  const read = new Set<string>();
  let enumerated = false;
  const row = new Proxy({} as Row, {
    get: (_t, key) => {
      if (typeof key === 'string') read.add(key);
      return anything();
    },
    has: (_t, key) => {
      if (typeof key === 'string') read.add(key);
      return typeof key === 'string' && columns.includes(key);
    },
    ownKeys: () => {
      enumerated = true;
      return [...columns];
    },
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === 'string' && columns.includes(key)
        ? { configurable: true, enumerable: true, writable: true, value: anything() }
        : undefined,
  });
  // Each function on its own: a filter that says no must not hide what the item reads.
  for (const fn of mapping.functions) {
    try {
      fn(row);
    } catch {
      // The sample values may not satisfy the mapping's checks; what it read up to there counts.
    }
  }
  return enumerated ? 'every' : read;
}
