/**
 * `_ferry_version`, the source position stored on every item, as sortable text:
 *
 *     v1:<binlog file sequence, 10 digits>-<position, 20>-<row, 10>-<phase>@<commit ms, 15>
 *
 * Text order is source order for one source server. The commit time sorts after the position,
 * so it never decides an order; it tells a stale replay (older position, older time) from a
 * source whose binlog numbering went back (older position, later time). The leading marker
 * names the format: a writer compares only versions of its own format, and any other is
 * refused loudly instead of being taken for newer or older.
 */
export const VERSION_FORMAT = 'v1:';

/**
 * A change committed later than this, by the source's clock, than one at a later binlog position
 * is not the connector sending an old change again: the binlog numbering went back.
 */
export const REGRESSION_MARGIN_MS = 60_000;

/** The item attribute holding it; reserved: a mapping may not produce it. */
export const VERSION_ATTRIBUTE = '_ferry_version';

/** At one binlog row: a snapshot read, then a delete, then a create or update. */
export type Phase = 0 | 1 | 2;

const pad = (value: number | bigint, width: number) => value.toString().padStart(width, '0');

export function formatVersion(
  fileSequence: bigint | number,
  pos: bigint | number,
  row: bigint | number,
  phase: Phase,
  committedAtMs: number,
): string {
  return `${VERSION_FORMAT}${pad(fileSequence, 10)}-${pad(pos, 20)}-${pad(row, 10)}-${phase}@${pad(Math.max(0, Math.trunc(committedAtMs)), 15)}`;
}

export interface ParsedVersion {
  /** Everything before the commit time: equal for the same change. */
  position: string;
  /** 1 when the item was written from a delete (a soft delete). */
  phase: Phase;
  committedAtMs: number;
}

/** Reads a version of this format; undefined for any other text (another format, or none). */
export function parseVersion(text: string | undefined): ParsedVersion | undefined {
  if (text === undefined || !text.startsWith(VERSION_FORMAT)) return undefined;
  const at = text.lastIndexOf('@');
  if (at < 0) return undefined;
  const committedAtMs = Number(text.slice(at + 1));
  const phase = Number(text[at - 1]);
  if (!Number.isFinite(committedAtMs) || !(phase === 0 || phase === 1 || phase === 2)) return undefined;
  return { position: text.slice(0, at), phase, committedAtMs };
}
