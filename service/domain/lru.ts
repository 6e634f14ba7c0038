// A size-bounded cache that forgets what was least recently used, approximately: two generations.
// A hit in the young generation costs one lookup (an exact LRU reorders its list on every hit);
// a hit in the old one promotes the entry; when the young generation is full it becomes the old
// one and the old one is forgotten. Holds at most max in weight: each entry weighs 1, or what
// weigh says (at least 1), so one entry holding a list of 10,000 counts as 10,000.
export class Lru<K, V> {
  readonly #half: number;
  // Asked again when an entry leaves, rather than kept beside it: values are never changed once
  // stored, and an unweighed cache keeps a hit at one lookup.
  readonly #weigh: ((value: V) => number) | null;
  #young = new Map<K, V>();
  #youngWeight = 0;
  #old = new Map<K, V>();
  #oldWeight = 0;

  constructor(max: number, weigh?: (value: V) => number) {
    this.#half = Math.floor(max / 2);
    this.#weigh = weigh ?? null;
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** What the entries held weigh together (their number when unweighed). */
  get weight(): number {
    return this.#youngWeight + this.#oldWeight;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#deleteOld(key, old);
      this.#store(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    const old = this.#old.get(key);
    if (old !== undefined) this.#deleteOld(key, old);
    this.#store(key, value);
  }

  delete(key: K): void {
    const young = this.#young.get(key);
    if (young !== undefined) {
      this.#young.delete(key);
      this.#youngWeight -= this.#weightOf(young);
    }
    const old = this.#old.get(key);
    if (old !== undefined) this.#deleteOld(key, old);
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
    this.#youngWeight = 0;
    this.#oldWeight = 0;
  }

  #weightOf(value: V): number {
    return this.#weigh === null ? 1 : Math.max(1, this.#weigh(value));
  }

  #deleteOld(key: K, value: V): void {
    this.#old.delete(key);
    this.#oldWeight -= this.#weightOf(value);
  }

  #store(key: K, value: V): void {
    const current = this.#young.get(key);
    if (current !== undefined) {
      this.#young.delete(key);
      this.#youngWeight -= this.#weightOf(current);
    }
    const weight = this.#weightOf(value);
    // Heavier than a generation may hold: not kept (and the value it replaces is gone already).
    if (weight > this.#half) return;
    if (this.#youngWeight + weight > this.#half) {
      this.#old = this.#young;
      this.#oldWeight = this.#youngWeight;
      this.#young = new Map();
      this.#youngWeight = 0;
    }
    this.#young.set(key, value);
    this.#youngWeight += weight;
  }
}
