// A user's links to clients (allocations, ledger access) as the fact cache holds them: the client
// ids end to end in one string, and one typed array holding where each ends and a hash table of
// their indexes (16-bit while the ids fit, as nearly all users' do). Read-only: a fact is never
// changed once cached. What it takes against a Set of the same ids is in BENCHMARKS.md ("Memory"),
// measured with `make bench-memory BENCH_ARGS=facts`.
import { randomBytes } from 'node:crypto';

/** What a decision asks of a user's links: whether a client is among them. A Set is one too. */
export interface Links extends Iterable<string> {
  has(clientId: string): boolean;
  readonly size: number;
}

// Client ids are chosen by the apps that write facts. With a hash they could predict, ids made to
// share slots would turn each lookup into a walk of the whole table; so the hash starts from a
// seed of this process's own, and its bits are mixed before the table takes the low ones.
const SEED = randomBytes(4).readUInt32LE(0);

/** FNV-1a over the UTF-16 code units of id from SEED, then murmur3's finalizer. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

type Table = Uint16Array | Uint32Array;

export class LinkSet implements Links {
  /** The ids end to end. */
  readonly #ids: string;
  /**
   * One array for two tables (a typed array costs about 150 bytes of its own): first where each
   * id ends in #ids (it starts where the one before it ends), then the slots of a hash table with
   * open addressing and linear probing, each 1 + an id's index or 0 when empty, a power of two
   * and at least twice as many as the ids.
   */
  readonly #table: Table;
  readonly #count: number;

  private constructor(ids: string, count: number, table: Table) {
    this.#ids = ids;
    this.#count = count;
    this.#table = table;
  }

  /** The ids as a LinkSet; one given twice is held once. */
  static of(ids: readonly string[]): LinkSet {
    let slots = 4;
    while (slots < ids.length * 2) slots *= 2;
    const joined = ids.join('');
    // The largest value held is the joined length (an end) or the count (a slot).
    const length = ids.length + slots;
    const table = Math.max(joined.length, ids.length) <= 0xffff ? new Uint16Array(length) : new Uint32Array(length);
    const set = new LinkSet(joined, ids.length, table);
    let end = 0;
    for (const [index, id] of ids.entries()) {
      const slot = set.#slotOf(id);
      // A repeat (the database keeps one row per pair; this does not rely on it) would leave its
      // text in the joined ids: start again from the distinct ones.
      if (table[slot] !== 0) return LinkSet.of([...new Set(ids)]);
      end += id.length;
      table[index] = end;
      table[slot] = index + 1;
    }
    return set;
  }

  get size(): number {
    return this.#count;
  }

  has(clientId: string): boolean {
    return this.#table[this.#slotOf(clientId)] !== 0;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    let start = 0;
    for (let index = 0; index < this.#count; index++) {
      const end = this.#table[index] as number;
      yield this.#ids.slice(start, end);
      start = end;
    }
  }

  /**
   * The most slots a lookup of a held id visits: how well the hash spreads these ids (a hash
   * that sent them to few slots would make it approach the count). For tests.
   */
  longestProbe(): number {
    const table = this.#table;
    const first = this.#count;
    const mask = table.length - first - 1;
    let longest = 0;
    let index = 0;
    for (const id of this) {
      index++;
      let visited = 1;
      for (let slot = hashOf(id) & mask; table[first + slot] !== index; slot = (slot + 1) & mask) visited++;
      longest = Math.max(longest, visited);
    }
    return longest;
  }

  /** The index in #table of the slot holding id, or of the empty slot where it would go. */
  #slotOf(id: string): number {
    const table = this.#table;
    const first = this.#count;
    const mask = table.length - first - 1;
    for (let slot = hashOf(id) & mask; ; slot = (slot + 1) & mask) {
      const index = table[first + slot] as number;
      if (index === 0) return first + slot;
      const start = index === 1 ? 0 : (table[index - 2] as number);
      if ((table[index - 1] as number) - start === id.length && this.#ids.startsWith(id, start)) return first + slot;
    }
  }
}
