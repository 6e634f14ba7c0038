// The facts behind decisions (and the API token rows requests are checked against), cached in
// memory. Every change (through the API or plain SQL) arrives as a notification from the database
// and drops what it touches; the API's own writes also drop it synchronously after commit, here
// and in the other workers of the process tree before they are answered. While the notification
// feed is down the cache is bypassed: missed changes must not be served. A request may also ask
// for facts at least as new as a write (its consistency token) or for no cache at all.
import type { DatabaseHandle } from '../data/connect.ts';
import { AppliedTransactions, CACHED, type Consistency } from './consistency.ts';
import { FACTS, FACT_SEPARATOR, dropsOf, type FactName, type Facts } from './fact-tables.ts';
import { Lru } from './lru.ts';

export type { Facts } from './fact-tables.ts';

export const FACTS_CHANNEL = 'clearance_facts';

/**
 * The notification that ends each of the API's write transactions: "commit/<xid>/<xmin>", sent
 * after every change of the transaction, so it arrives after them (data/facts.ts notifyCommit).
 */
export const COMMIT_PREFIX = `commit${FACT_SEPARATOR}`;

/**
 * The other workers of this process tree (CLEARANCE_WORKERS above 1), which answer on the same
 * port: a write is answered only once they have dropped what it changed (or a bound passed, after
 * which a worker that has not caught up does not use its cache).
 */
export interface Peers {
  /** True while changes were announced that this process has not applied yet: its cache must not be used. */
  behind(): boolean;
  /** Tells the other workers what a committed write changed; resolves once each dropped it, or the bound passed. */
  announce(changes: readonly string[]): Promise<void>;
  /** Where the changes the other workers announce are applied. */
  follow(apply: (change: string) => void): void;
}

export interface FactsStats {
  hits: number;
  misses: number;
  /** Callers that shared a load already under way instead of making their own. */
  coalesced: number;
  invalidations: number;
  enabled: boolean;
  /** Requests answered from the database though the cache was up, by why. */
  bypassed: { fresh: number; at_least: number; behind: number };
}

/**
 * What one traced request's reads found: in the cache (a shared load under way counts as a hit), or
 * loaded from the database (a miss, or every read of a request that bypasses the cache).
 */
export interface FactTally {
  hits: number;
  misses: number;
  /** database: the request bypassed the cache (asked for fresh facts, the feed is down, …). */
  source: 'cache' | 'database';
}

/** A load under way, and the epoch it started in. */
interface Loading<V> {
  epoch: number;
  value: Promise<V>;
}

/** One kind of fact in the cache: its entries, and the loads under way by key. */
interface Cached {
  cache: Lru<string, unknown>;
  loading: Map<string, Loading<unknown>>;
}

// The fact readers (user(id), account(id), …) are made from the registry in the constructor, one
// for every name of FACTS, so the merged declaration holds.
export interface FactStore extends Facts {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor assigns every reader of Facts
export class FactStore {
  readonly #handle: DatabaseHandle;
  readonly #peers: Peers | null;
  readonly #applied = new AppliedTransactions();
  /** The same reads for a request that bypasses the cache (each counted as a miss). */
  readonly #direct: Facts;
  readonly #cached = new Map<FactName, Cached>();
  readonly #loads = new Map<FactName, (key: string) => Promise<unknown>>();
  // Bumped by every invalidation: a load that started before one is not cached.
  #epoch = 0;
  #enabled = false;
  readonly stats: FactsStats = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    invalidations: 0,
    enabled: false,
    bypassed: { fresh: 0, at_least: 0, behind: 0 },
  };
  #stopListening: (() => Promise<void>) | null = null;

  /**
   * maxEntries bounds the facts each kind holds: a user, a client, an allocation pair each count
   * one, so a user's allocation set weighs its size and an account's client list (every client of
   * a practice, 10,000 and more) its length. An entry count alone let a few big lists hold
   * hundreds of MB. A kind may set its own bound from it and its own weights (fact-tables.ts: a
   * user's links, held compactly, three times as many).
   */
  constructor(handle: DatabaseHandle, maxEntries = 100_000, peers: Peers | null = null) {
    this.#handle = handle;
    this.#peers = peers;
    peers?.follow((change) => this.invalidate(change));
    // The values recurring in many facts (account ids, roles, ledgers…), kept once (fact-tables.ts,
    // Intern): the most recently seen, at most as many as one kind of fact may count; with the
    // cache off, none.
    const strings = new Lru<string, string>(maxEntries);
    const intern = <S extends string>(value: S): S => {
      const held = strings.get(value);
      if (held !== undefined) return held as S;
      strings.set(value, value);
      return value;
    };
    const direct: Record<string, (key: string) => Promise<unknown>> = {};
    const readers = this as unknown as Record<string, (key: string) => Promise<unknown>>;
    for (const [name, spec] of Object.entries(FACTS) as Array<[FactName, (typeof FACTS)[FactName]]>) {
      const load = (key: string): Promise<unknown> => spec.load(handle.db, key, intern);
      this.#loads.set(name, load);
      const weigh = spec.weigh as ((value: unknown) => number) | undefined;
      this.#cached.set(name, { cache: new Lru(spec.bound?.(maxEntries) ?? maxEntries, weigh), loading: new Map() });
      direct[name] = (key) => {
        this.stats.misses += 1;
        return load(key);
      };
      readers[name] = (key) => this.#through(name, key, () => load(key));
    }
    this.#direct = direct as Facts;
  }

  /** Starts following changes; the cache is used only while the feed is up. */
  start(onDown?: (error: Error) => void): void {
    this.#stopListening = this.#handle.listen(FACTS_CHANNEL, {
      onNotify: (payload) => this.invalidate(payload),
      onUp: () => {
        this.#clearAll();
        this.#setEnabled(true);
      },
      onDown: (error) => {
        this.#setEnabled(false);
        this.#clearAll();
        onDown?.(error);
      },
    });
  }

  async stop(): Promise<void> {
    this.#setEnabled(false);
    await this.#stopListening?.();
  }

  #setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    this.stats.enabled = enabled;
  }

  #clearAll(): void {
    this.#epoch += 1;
    for (const { cache } of this.#cached.values()) cache.clear();
  }

  /**
   * The facts as a request arriving now may read them: this cache, or the database directly while
   * the cache cannot answer for what the request needs — another worker announced a change this
   * process has not applied yet, the request asked for no cache, or for a transaction the change
   * feed has not yet delivered here. Asked once per request, before any fact is read.
   */
  forRequest(consistency: Consistency = CACHED): Facts {
    // The cache is bypassed anyway (#through) while the feed is down.
    if (!this.#enabled) return this;
    if (this.#peers?.behind() === true) {
      this.stats.bypassed.behind += 1;
      return this.#direct;
    }
    if (consistency.kind === 'fresh') {
      this.stats.bypassed.fresh += 1;
      return this.#direct;
    }
    if (consistency.kind === 'at_least' && !this.#applied.covers(consistency.transaction)) {
      this.stats.bypassed.at_least += 1;
      return this.#direct;
    }
    return this;
  }

  /**
   * The reads of facts (as forRequest chose them), each counted in tally: for a traced step, made
   * only when one is sampled.
   */
  tallied(facts: Facts, tally: FactTally): Facts {
    const cached = facts === this && this.#enabled;
    tally.source = cached ? 'cache' : 'database';
    const readers: Record<string, (key: string) => Promise<unknown>> = {};
    for (const [name, load] of this.#loads) {
      readers[name] = cached
        ? (key) => this.#through(name, key, () => load(key), tally)
        : (key) => {
            this.stats.misses += 1;
            tally.misses += 1;
            return load(key);
          };
    }
    return readers as unknown as Facts;
  }

  /**
   * After a write committed: drops what it changed here at once, then in the other workers of the
   * process tree; resolves once they did (or their bound passed). A decision sent after the write
   * is answered must not be answered from a cache entry the change made stale, on any worker.
   */
  async changed(changes: readonly string[]): Promise<void> {
    for (const change of changes) this.invalidate(change);
    await this.#peers?.announce(changes);
  }

  /**
   * Drops what a change touches. Payload: factChange(…) (with or without its transaction), "*",
   * or a commit notification (COMMIT_PREFIX), which drops nothing but records the transaction as
   * applied. Anything else (the ':' format of before, were that migration rolled back) drops
   * everything: an unreadable change fails safe.
   */
  invalidate(payload: string): void {
    if (payload.startsWith(COMMIT_PREFIX)) {
      this.#commitApplied(payload);
      return;
    }
    this.stats.invalidations += 1;
    this.#epoch += 1;
    const [table = '', key = '', accountId = ''] = payload.split(FACT_SEPARATOR);
    const drops = dropsOf(table, key, accountId);
    if (drops === null) this.#clearAll();
    else for (const [name, entry] of drops) this.#cached.get(name)?.cache.delete(entry);
  }

  // "commit/<xid>/<xmin>": every change of the transaction came before it on the feed. One that
  // cannot be read records nothing: its token is then answered from the database, never stale.
  #commitApplied(payload: string): void {
    const [, transaction = '', xmin = ''] = payload.split(FACT_SEPARATOR);
    if (/^\d{1,20}$/.test(transaction) && /^\d{1,20}$/.test(xmin)) this.#applied.add(BigInt(transaction), BigInt(xmin));
  }

  /**
   * From the cache, else loaded (and cached if no invalidation came meanwhile). A caller that finds
   * the same key already being loaded shares that load (a cold batch of 1000 decisions about one
   * user is one query for the user, not 1000), but only a load that started in the current epoch:
   * one an invalidation overtook may hold what the change replaced, so a later caller — one asking
   * after a write was answered — loads anew. Nothing is shared while the cache is bypassed: then
   * every decision reads the database itself.
   */
  async #through(
    name: FactName,
    key: string,
    load: () => Promise<unknown>,
    tally: FactTally | null = null,
  ): Promise<unknown> {
    if (!this.#enabled) {
      this.stats.misses += 1;
      if (tally !== null) tally.misses += 1;
      return load();
    }
    const { cache, loading } = this.#cached.get(name) as Cached;
    const cached = cache.get(key);
    if (cached !== undefined) {
      this.stats.hits += 1;
      if (tally !== null) tally.hits += 1;
      return cached;
    }
    const under = loading.get(key);
    if (under !== undefined && under.epoch === this.#epoch) {
      this.stats.coalesced += 1;
      if (tally !== null) tally.hits += 1;
      return under.value;
    }
    this.stats.misses += 1;
    if (tally !== null) tally.misses += 1;
    const epoch = this.#epoch;
    const started: Loading<unknown> = { epoch, value: load() };
    loading.set(key, started);
    try {
      const value = await started.value;
      if (this.#enabled && epoch === this.#epoch) cache.set(key, value);
      return value;
    } finally {
      // A newer load of the key may have taken the slot meanwhile: that one stays.
      if (loading.get(key) === started) loading.delete(key);
    }
  }
}
