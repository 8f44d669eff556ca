import { z } from 'zod';
import { ConfigError } from '../core/errors';
import type { ResetTarget } from '../source/kafka/offsets';

/**
 * Option values as operators type them. Each parser reads the whole text or refuses it, naming
 * the option and what it takes: "5abc" is not 5, "1%" is not 1, and 2026-02-30 is not March 2.
 */

/** A whole number from min to max, in digits only. */
export function wholeNumber(flag: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max))
    throw new ConfigError(
      `${flag} "${text}" is not a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`,
    );
  return n;
}

/** A decimal from min to max: digits with a fraction or an exponent, nothing else; `note` tells how to write one. */
export function decimal(flag: string, text: string, min: number, max: number, what = 'a number', note = ''): number {
  const n = /^(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max))
    throw new ConfigError(`${flag} "${text}" is not ${what} from ${min} to ${max}${note ? ` (${note})` : ''}`);
  return n;
}

const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });
/** To the minute (2024-05-01T12:00Z), as a browser's datetime field gives it. */
const isoMinute = z.iso.datetime({ offset: true, precision: -1 });

/** A date and time with no zone: 2024-05-01T12:00 or 2024-05-01 12:00:30. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * An instant in ISO-8601: a date (its midnight UTC), or a date and time with Z or an offset.
 * Without one the time would be the local time of whichever machine runs ferry, so it is refused;
 * `zoneless: 'utc'` reads it as UTC instead (a browser's datetime-local field, which has no zone).
 */
export function instant(flag: string, text: string, zoneless: 'refuse' | 'utc' = 'refuse'): Date {
  if ([isoDate, isoDateTime, isoMinute].some((form) => form.safeParse(text).success)) return new Date(text);
  const local = ZONELESS.test(text);
  if (local && zoneless === 'utc') return instant(flag, `${text.replace(' ', 'T')}Z`);
  throw new ConfigError(
    local
      ? `${flag} "${text}" has no time zone: add Z for UTC or an offset such as +02:00 (${text.replace(' ', 'T')}Z)`
      : `${flag} "${text}" is not an ISO-8601 date or time of the calendar (2024-05-01, 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00)`,
  );
}

/**
 * Where to move a group: `earliest`, `latest`, an ISO-8601 instant or `0=42,3=100`; `allowed`
 * names the forms this option takes, and the error lists them.
 */
export function resetTarget(
  flag: string,
  text: string,
  allowed: ReadonlyArray<ResetTarget['kind']> = ['earliest', 'latest', 'time', 'offsets'],
): ResetTarget {
  const forms = {
    earliest: 'earliest',
    latest: 'latest',
    time: 'an ISO-8601 date or time (2024-05-01T12:00:00Z)',
    offsets: 'partition=offset pairs (0=42,3=100)',
  };
  const names = allowed.map((kind) => forms[kind]);
  const refuse = () =>
    new ConfigError(
      `${flag} "${text}" is not ${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names.at(-1)}`,
    );
  const target = parse();
  if (!allowed.includes(target.kind)) throw refuse();
  return target;

  function parse(): ResetTarget {
    if (text === 'earliest' || text === 'latest') return { kind: text };
    if (/^\d+=\d+(,\d+=\d+)*$/.test(text)) {
      const offsets = new Map<number, string>();
      for (const [partition, offset] of text.split(',').map((pair) => pair.split('=') as [string, string])) {
        if (offsets.has(Number(partition)))
          throw new ConfigError(`${flag} "${text}" names partition ${Number(partition)} twice`);
        offsets.set(Number(partition), String(BigInt(offset)));
      }
      return { kind: 'offsets', offsets };
    }
    if (/^\d{4}-/.test(text)) return { kind: 'time', at: instant(flag, text) };
    throw refuse();
  }
}
