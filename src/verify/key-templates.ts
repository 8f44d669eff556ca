import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Row } from '../core/change-event';
import type { AttributeMap } from '../core/write-intent';
import type { KeyAttribute } from '../core/write-intent';
import { canonicalNumber } from '../mapping/prepare-item';
import type { Column } from '../source/mysql/table-shape';

/**
 * How item keys are made of source columns, learned from the rows verify reads: `I#{id}`,
 * `{tenant}#{user}`, `EMAIL#{email}`. A template lets verify go back from an item key found by a
 * scan to the source row that would produce it, through the primary key or another unique key,
 * so finding extra items needs no set of every expected key.
 *
 * A template is only a guess at where to look: whether a row really produces a key is always
 * decided by the mapping itself. It is kept because it rendered some row's key exactly; a key no
 * template renders is reported to the caller, which remembers it instead.
 */

type Kind = 'integer' | 'text' | 'binary';
type Part = string | { column: string };

interface Template {
  /** Templates learned from the same key share a batch: any one of them renders that key. */
  batch: number;
  /** Keys rendered after the one it was learned from. */
  hits: number;
  /** Per key attribute: literal text and columns, never two columns side by side. */
  attributes: Part[][];
  /** The unique key (all of it among the template's columns) a traced row is looked up by. */
  lookup: string[];
  signature: string;
}

export interface KeyLookup {
  /** Unique key columns, and the values a traced key gives them. */
  columns: string[];
  tuple: unknown[];
}

/** Templates kept at most: past this, keys none renders are remembered instead. */
const MAX_TEMPLATES = 32;
/** Ways to read one key with one template at most; beyond it the key is reported untraceable. */
const MAX_READINGS = 256;
const MAX_CANDIDATES = 64;

const KINDS: Record<string, Kind> = {
  tinyint: 'integer',
  smallint: 'integer',
  mediumint: 'integer',
  int: 'integer',
  bigint: 'integer',
  year: 'integer',
  char: 'text',
  varchar: 'text',
  tinytext: 'text',
  text: 'text',
  mediumtext: 'text',
  longtext: 'text',
  enum: 'text',
  binary: 'binary',
  varbinary: 'binary',
};
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** A key attribute as text: a string, a number's canonical digits, or binary as base64. */
export function attributeText(value: AttributeValue | undefined): string | undefined {
  if (value?.S !== undefined) return value.S;
  if (value?.N !== undefined) {
    const canonical = canonicalNumber(value.N);
    return canonical.ok ? canonical.text : value.N;
  }
  if (value?.B !== undefined) return Buffer.from(value.B).toString('base64');
  return undefined;
}

export class KeyTemplates {
  private readonly templates: Template[] = [];
  private batches = 0;
  private readonly kinds = new Map<string, Kind>();
  private readonly uniqueKeys: string[][];

  constructor(
    private readonly keyAttributes: readonly KeyAttribute[],
    columns: readonly Column[],
    uniqueKeys: readonly string[][],
  ) {
    for (const c of columns) {
      const kind = KINDS[c.dataType];
      if (kind) this.kinds.set(c.name, kind);
    }
    this.uniqueKeys = uniqueKeys.filter((key) => key.every((c) => this.kinds.has(c)));
  }

  /**
   * True when a template renders this row's key, learning one from the row if none does yet;
   * false when the key cannot be traced back to the row by any template.
   */
  learn(row: Row, key: AttributeMap): boolean {
    const texts = this.columnTexts(row);
    const keyTexts = this.keyAttributes.map((a) => attributeText(key[a.name]));
    if (keyTexts.some((t) => t === undefined)) return false;
    const wanted = keyTexts as string[];
    let rendered = false;
    for (const t of this.templates)
      if (renders(t, texts, wanted)) {
        t.hits++;
        rendered = true;
      }
    if (rendered) return true;
    const candidates = this.candidates(texts, wanted);
    if (candidates.length === 0) return false;
    if (this.templates.length + candidates.length > MAX_TEMPLATES) this.prune();
    const batch = this.batches++;
    for (const candidate of candidates.slice(0, MAX_TEMPLATES - this.templates.length))
      this.templates.push({ ...candidate, batch, hits: 0 });
    return this.templates.some((t) => t.batch === batch);
  }

  /**
   * Drops templates that rendered no key but the one they were learned from, keeping one of
   * each batch: every key seen so far is still rendered by some template.
   */
  private prune(): void {
    const kept = new Set<number>();
    for (const t of this.templates) if (t.hits > 0) kept.add(t.batch);
    for (let i = this.templates.length - 1; i >= 0; i--) {
      const t = this.templates[i] as Template;
      if (t.hits > 0) continue;
      const sibling = this.templates.some((o) => o !== t && o.batch === t.batch);
      if (kept.has(t.batch) || sibling) this.templates.splice(i, 1);
      else kept.add(t.batch);
    }
  }

  /**
   * Every unique-key value a key can have come from, by every template; `complete` is false
   * when a template reads the key in too many ways to look them all up.
   */
  trace(key: AttributeMap): { lookups: KeyLookup[]; complete: boolean } {
    const keyTexts = this.keyAttributes.map((a) => attributeText(key[a.name]));
    const lookups: KeyLookup[] = [];
    let complete = true;
    if (keyTexts.some((t) => t === undefined)) return { lookups, complete };
    for (const template of this.templates) {
      let readings: Array<Map<string, string>> = [new Map()];
      for (const [i, parts] of template.attributes.entries()) {
        const next: Array<Map<string, string>> = [];
        for (const reading of readings) next.push(...this.read(parts, keyTexts[i] as string, reading));
        readings = next;
      }
      if (readings.length > MAX_READINGS) {
        complete = false;
        readings = readings.slice(0, MAX_READINGS);
      }
      for (const reading of readings)
        lookups.push({
          columns: template.lookup,
          tuple: template.lookup.map((c) => {
            const text = reading.get(c) as string;
            return this.kinds.get(c) === 'binary' ? Buffer.from(text, 'base64') : text;
          }),
        });
    }
    return { lookups, complete };
  }

  /** The templates learned, for the report: `pk="I#{id}" sk="ITEM"`. */
  describe(): string[] {
    return this.templates.map((t) =>
      t.attributes
        .map((parts, i) => {
          const text = parts.map((p) => (typeof p === 'string' ? p : `{${p.column}}`)).join('');
          return `${this.keyAttributes[i]?.name}=${JSON.stringify(text)}`;
        })
        .join(' '),
    );
  }

  private columnTexts(row: Row): Map<string, string> {
    const texts = new Map<string, string>();
    for (const [name, kind] of this.kinds) {
      const value = row[name];
      if (kind === 'binary') {
        if (value instanceof Uint8Array) texts.set(name, Buffer.from(value).toString('base64'));
      } else if (kind === 'integer') {
        if (typeof value === 'number' || typeof value === 'bigint') texts.set(name, String(value));
      } else if (typeof value === 'string') texts.set(name, value);
    }
    return texts;
  }

  /** The templates that render this key from this row and name a whole unique key. */
  private candidates(texts: Map<string, string>, keyTexts: string[]): Array<Omit<Template, 'batch' | 'hits'>> {
    let combos: Part[][][] = [[]];
    for (const [i, text] of keyTexts.entries()) {
      const options =
        this.keyAttributes[i]?.type === 'B'
          ? [
              [text],
              ...[...texts]
                .filter(([c, t]) => this.kinds.get(c) === 'binary' && t === text)
                .map(([c]) => [{ column: c }]),
            ]
          : splits(text, texts, (c) => this.kinds.get(c) !== 'binary');
      combos = combos.flatMap((combo) => options.map((parts) => [...combo, parts])).slice(0, MAX_CANDIDATES);
    }
    const out: Array<Omit<Template, 'batch' | 'hits'>> = [];
    for (const attributes of combos) {
      const used = new Set(attributes.flat().flatMap((p) => (typeof p === 'string' ? [] : [p.column])));
      const lookup = this.uniqueKeys.find((key) => key.every((c) => used.has(c)));
      const signature = JSON.stringify(attributes);
      if (lookup && !this.templates.some((t) => t.signature === signature)) out.push({ attributes, lookup, signature });
    }
    return out;
  }

  /** The ways `text` reads as `parts`, each extending `reading` with the columns' text. */
  private read(parts: Part[], text: string, reading: Map<string, string>): Array<Map<string, string>> {
    const out: Array<Map<string, string>> = [];
    const step = (i: number, pos: number, values: Map<string, string>) => {
      if (out.length > MAX_READINGS) return;
      const part = parts[i];
      if (part === undefined) {
        if (pos === text.length) out.push(values);
        return;
      }
      if (typeof part === 'string') {
        if (text.startsWith(part, pos)) step(i + 1, pos + part.length, values);
        return;
      }
      const take = (end: number) => {
        const value = text.slice(pos, end);
        if (!this.fits(part.column, value, values)) return;
        step(i + 1, end, new Map(values).set(part.column, value));
      };
      const following = parts[i + 1];
      if (following === undefined) return take(text.length);
      for (let at = text.indexOf(following as string, pos); at >= 0; at = text.indexOf(following as string, at + 1))
        take(at);
    };
    step(0, 0, reading);
    return out;
  }

  private fits(column: string, value: string, values: Map<string, string>): boolean {
    const seen = values.get(column);
    if (seen !== undefined) return seen === value;
    const kind = this.kinds.get(column);
    if (kind === 'integer') return INTEGER.test(value);
    if (kind === 'binary') return value.length > 0 && Buffer.from(value, 'base64').toString('base64') === value;
    return true;
  }
}

function renders(template: Template, texts: Map<string, string>, keyTexts: string[]): boolean {
  return template.attributes.every((parts, i) => {
    let out = '';
    for (const p of parts) {
      const text = typeof p === 'string' ? p : texts.get(p.column);
      if (text === undefined) return false;
      out += text;
    }
    return out === keyTexts[i];
  });
}

/**
 * The ways to see `text` as literals and column values found in it, no two columns side by
 * side (they could not be told apart again): `I#17` with id 17 is `I#{id}` or `I#17`.
 */
function splits(text: string, texts: Map<string, string>, eligible: (column: string) => boolean): Part[][] {
  const found: Array<{ start: number; end: number; column: string }> = [];
  for (const [column, value] of texts) {
    if (value.length === 0 || !eligible(column)) continue;
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1))
      found.push({ start: at, end: at + value.length, column });
  }
  found.sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Part[][] = [];
  const choose = (from: number, lastEnd: number, chosen: typeof found) => {
    if (out.length >= MAX_CANDIDATES) return;
    const parts: Part[] = [];
    let pos = 0;
    for (const o of chosen) {
      if (o.start > pos) parts.push(text.slice(pos, o.start));
      parts.push({ column: o.column });
      pos = o.end;
    }
    if (pos < text.length || parts.length === 0) parts.push(text.slice(pos));
    out.push(parts);
    for (let j = from; j < found.length; j++) {
      const o = found[j] as (typeof found)[number];
      if (o.start > lastEnd) choose(j + 1, o.end, [...chosen, o]);
    }
  };
  choose(0, -1, []);
  // Most columns first: those are the ones that name a unique key.
  const columns = (parts: Part[]) => parts.filter((p) => typeof p !== 'string').length;
  return out.sort((a, b) => columns(b) - columns(a));
}
