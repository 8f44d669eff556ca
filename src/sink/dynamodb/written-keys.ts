/**
 * The item keys a rebuild has written to the table it created, as a Bloom filter: "no" is
 * certain, "maybe" may be wrong. A key never written to a new table has no item and no delete
 * record there, so the batch writer reads versions only for the maybes: a false maybe costs one
 * read, never a wrong write. Fixed memory whatever the table's size (8 MiB: under 0.3% false
 * maybes up to 5 million keys; past that, more reads, as without the filter).
 */
export class WrittenKeys {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(
    log2Bits = 26,
    private readonly hashes = 5,
  ) {
    this.bits = new Uint32Array(2 ** (log2Bits - 5));
    this.mask = 2 ** log2Bits - 1;
  }

  add(key: string): void {
    const [h1, h2] = hashPair(key);
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
  }

  /** False when `key` was certainly never added. */
  mayHave(key: string): boolean {
    const [h1, h2] = hashPair(key);
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two 32-bit FNV-1a hashes of different seeds, for double hashing (Kirsch and Mitzenmacher). */
function hashPair(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  // An odd step visits distinct bits for every i.
  return [a >>> 0, (b ^ (b >>> 15)) | 1];
}

/** What a key holds, as its rebuild last read or wrote it: an item of a version, or a remembered delete. */
export type KeyState = { item: string } | { deleted: string };

/**
 * The state of the keys a rebuild wrote last, up to `capacity` keys (the least recently used go
 * first). The rebuild is its shadow table's only writer and writes a key in one chunk at a time,
 * so what it last wrote of a key is what the table holds: a key written again (a row's next
 * change in a backlog of every change) is compared with it in the process, not read. 100,000
 * keys took 41 MB of heap (key text of 70 characters). A key evicted, or whose write failed, is
 * read again.
 */
export class KnownStates {
  private readonly states = new Map<string, KeyState>();

  constructor(private readonly capacity = 100_000) {}

  get(key: string): KeyState | undefined {
    const state = this.states.get(key);
    if (state) this.set(key, state);
    return state;
  }

  set(key: string, state: KeyState): void {
    this.states.delete(key);
    this.states.set(key, state);
    if (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value as string);
  }

  forget(key: string): void {
    this.states.delete(key);
  }
}
