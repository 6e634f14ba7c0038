// The facts behind decisions (and the API token rows requests are checked against), cached in
// memory. Every change (through the API or plain SQL) arrives as a notification from the database
// and drops what it touches; the API's own writes also drop it synchronously after commit, here
// and in the other workers of the process tree before they are answered. While the notification
// feed is down the cache is bypassed: missed changes must not be served. A request may also ask
// for facts at least as new as a write (its consistency token) or for no cache at all.
import type { DatabaseHandle } from '../data/connect.ts';
import * as facts from '../data/facts.ts';
import type { ClientSummary } from '../data/facts.ts';
import type { Account, ApiToken, Client, Item, User } from '../data/schema.ts';
import { findToken } from '../data/tokens.ts';
import { AppliedTransactions, CACHED, type Consistency } from './consistency.ts';
import { Lru } from './lru.ts';

export const FACTS_CHANNEL = 'clearance_facts';
const NONE = null;

/** The tables whose changes the feed tells of (the database's own table names). */
export type FactTable = 'accounts' | 'users' | 'clients' | 'items' | 'allocations' | 'ledger_access' | 'api_tokens';

// Ids may contain ':' but never '/', so '/' keeps the parts apart.
export const FACT_SEPARATOR = '/';

/**
 * A change as the feed tells of it (db/migrations/2026-11-25T0200_fact_notification_transaction.ts):
 * "<table>/<key>/<account_id>/<xid>", the key being the row's user_id or else its id. The
 * transaction part is left out where the change is told by the service itself (its own writes,
 * to this process and its fellow workers).
 */
export const factChange = (table: FactTable, key: string, accountId: string): string => [table, key, accountId].join(FACT_SEPARATOR);

/**
 * The notification that ends each of the API's write transactions: "commit/<xid>/<xmin>", sent
 * after every change of the transaction, so it arrives after them (data/facts.ts notifyCommit).
 */
export const COMMIT_PREFIX = `commit${FACT_SEPARATOR}`;

/** The facts a decision reads, from the cache or straight from the database. */
export interface Facts {
  user(id: string): Promise<User | null>;
  account(id: string): Promise<Account | null>;
  client(id: string): Promise<Client | null>;
  item(id: string): Promise<Item | null>;
  allocations(userId: string): Promise<ReadonlySet<string>>;
  ledgerAccess(userId: string): Promise<ReadonlySet<string>>;
  /** An API token row by id (null when unknown); expiry and revocation are for the caller to check. */
  token(id: string): Promise<ApiToken | null>;
  accountClients(accountId: string): Promise<ClientSummary[]>;
}

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

/** A load under way, and the epoch it started in. */
interface Loading<V> {
  epoch: number;
  value: Promise<V>;
}

export class FactStore implements Facts {
  readonly #handle: DatabaseHandle;
  readonly #peers: Peers | null;
  readonly #applied = new AppliedTransactions();
  /** Each fact read from the database. */
  readonly #load: Facts;
  /** The same reads for a request that bypasses the cache (each counted as a miss). */
  readonly #direct: Facts;
  readonly #caches: Array<Lru<string, unknown>> = [];
  /** Per cache, the loads under way by key. */
  readonly #loading = new Map<Lru<string, unknown>, Map<string, Loading<unknown>>>();
  readonly #users: Lru<string, User | null>;
  readonly #accounts: Lru<string, Account | null>;
  readonly #clients: Lru<string, Client | null>;
  readonly #items: Lru<string, Item | null>;
  readonly #allocations: Lru<string, ReadonlySet<string>>;
  readonly #ledgerAccess: Lru<string, ReadonlySet<string>>;
  readonly #accountClients: Lru<string, ClientSummary[]>;
  readonly #tokens: Lru<string, ApiToken | null>;
  // Bumped by every invalidation: a load that started before one is not cached.
  #epoch = 0;
  #enabled = false;
  readonly stats: FactsStats = { hits: 0, misses: 0, coalesced: 0, invalidations: 0, enabled: false, bypassed: { fresh: 0, at_least: 0, behind: 0 } };
  #stopListening: (() => Promise<void>) | null = null;

  /**
   * maxEntries bounds the facts each kind holds: a user, a client, an allocation pair each count
   * one, so a user's allocation set weighs its size and an account's client list (every client of
   * a practice, 10,000 and more) its length. An entry count alone let a few big lists hold
   * hundreds of MB.
   */
  constructor(handle: DatabaseHandle, maxEntries = 100_000, peers: Peers | null = null) {
    this.#handle = handle;
    this.#peers = peers;
    peers?.follow((change) => this.invalidate(change));
    const { db } = handle;
    this.#load = {
      user: async (id) => (await facts.findById(db, 'users', id)) ?? NONE,
      account: async (id) => (await facts.findById(db, 'accounts', id)) ?? NONE,
      client: async (id) => (await facts.findById(db, 'clients', id)) ?? NONE,
      item: async (id) => (await facts.findById(db, 'items', id)) ?? NONE,
      allocations: async (userId) => new Set(await facts.userClientIds(db, 'allocations', userId)),
      ledgerAccess: async (userId) => new Set(await facts.userClientIds(db, 'ledger_access', userId)),
      token: async (id) => (await findToken(db, id)) ?? NONE,
      accountClients: (accountId) => facts.accountClients(db, accountId),
    };
    this.#direct = Object.fromEntries(
      Object.entries(this.#load).map(([kind, load]: [string, (key: string) => Promise<unknown>]) => [
        kind,
        (key: string) => {
          this.stats.misses += 1;
          return load(key);
        },
      ]),
    ) as unknown as Facts;
    const lru = <V>(max: number, weigh?: (value: V) => number) => {
      const cache = new Lru<string, V>(max, weigh);
      this.#caches.push(cache as Lru<string, unknown>);
      this.#loading.set(cache as Lru<string, unknown>, new Map());
      return cache;
    };
    const setSize = (set: ReadonlySet<string>) => set.size;
    this.#users = lru(maxEntries);
    this.#accounts = lru(maxEntries);
    this.#clients = lru(maxEntries);
    this.#items = lru(maxEntries);
    this.#allocations = lru(maxEntries, setSize);
    this.#ledgerAccess = lru(maxEntries, setSize);
    this.#accountClients = lru(maxEntries, (list) => list.length);
    this.#tokens = lru(Math.max(16, Math.floor(maxEntries / 10)));
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
    for (const cache of this.#caches) cache.clear();
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
    const [table, key = '', accountId = ''] = payload.split(FACT_SEPARATOR);
    switch (table) {
      case 'users':
        this.#users.delete(key);
        break;
      case 'accounts':
        this.#accounts.delete(key);
        this.#accountClients.delete(key);
        break;
      case 'clients':
        this.#clients.delete(key);
        this.#accountClients.delete(accountId);
        break;
      case 'items':
        this.#items.delete(key);
        break;
      case 'allocations':
        this.#allocations.delete(key);
        break;
      case 'ledger_access':
        this.#ledgerAccess.delete(key);
        break;
      case 'api_tokens':
        this.#tokens.delete(key);
        break;
      default:
        this.#clearAll();
    }
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
  async #through<V>(cache: Lru<string, V>, key: string, load: () => Promise<V>): Promise<V> {
    if (!this.#enabled) {
      this.stats.misses += 1;
      return load();
    }
    const cached = cache.get(key);
    if (cached !== undefined) {
      this.stats.hits += 1;
      return cached;
    }
    const loading = this.#loading.get(cache as Lru<string, unknown>) as Map<string, Loading<V>>;
    const under = loading.get(key);
    if (under !== undefined && under.epoch === this.#epoch) {
      this.stats.coalesced += 1;
      return under.value;
    }
    this.stats.misses += 1;
    const epoch = this.#epoch;
    const started: Loading<V> = { epoch, value: load() };
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

  user(id: string): Promise<User | null> {
    return this.#through(this.#users, id, () => this.#load.user(id));
  }

  account(id: string): Promise<Account | null> {
    return this.#through(this.#accounts, id, () => this.#load.account(id));
  }

  client(id: string): Promise<Client | null> {
    return this.#through(this.#clients, id, () => this.#load.client(id));
  }

  item(id: string): Promise<Item | null> {
    return this.#through(this.#items, id, () => this.#load.item(id));
  }

  allocations(userId: string): Promise<ReadonlySet<string>> {
    return this.#through(this.#allocations, userId, () => this.#load.allocations(userId));
  }

  ledgerAccess(userId: string): Promise<ReadonlySet<string>> {
    return this.#through(this.#ledgerAccess, userId, () => this.#load.ledgerAccess(userId));
  }

  token(id: string): Promise<ApiToken | null> {
    return this.#through(this.#tokens, id, () => this.#load.token(id));
  }

  accountClients(accountId: string): Promise<ClientSummary[]> {
    return this.#through(this.#accountClients, accountId, () => this.#load.accountClients(accountId));
  }
}
