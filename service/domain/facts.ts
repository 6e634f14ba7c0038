// The facts behind decisions (and the API token rows requests are checked against), cached in
// memory. Every change (through the API or plain SQL) arrives as a notification from the database
// and drops what it touches; the API's own writes also drop it synchronously after commit. While
// the notification feed is down the cache is bypassed: missed changes must not be served.
import type { DatabaseHandle } from '../data/connect.ts';
import * as facts from '../data/facts.ts';
import type { ClientSummary } from '../data/facts.ts';
import type { Account, ApiToken, Client, Item, User } from '../data/schema.ts';
import { findToken } from '../data/tokens.ts';
import { Lru } from './lru.ts';

export const FACTS_CHANNEL = 'clearance_facts';
const NONE = null;

/** The tables whose changes the feed tells of (the database's own table names). */
export type FactTable = 'accounts' | 'users' | 'clients' | 'items' | 'allocations' | 'ledger_access' | 'api_tokens';

// Ids may contain ':' but never '/', so '/' keeps the three parts apart.
const SEPARATOR = '/';

/**
 * A change as the feed tells of it (db/migrations/2026-11-24T0100_fact_notification_separator.ts):
 * "<table>/<key>/<account_id>", the key being the row's user_id or else its id.
 */
export const factChange = (table: FactTable, key: string, accountId: string): string => [table, key, accountId].join(SEPARATOR);

export interface FactsStats {
  hits: number;
  misses: number;
  /** Callers that shared a load already under way instead of making their own. */
  coalesced: number;
  invalidations: number;
  enabled: boolean;
}

/** A load under way, and the epoch it started in. */
interface Loading<V> {
  epoch: number;
  value: Promise<V>;
}

export class FactStore {
  readonly #handle: DatabaseHandle;
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
  readonly stats: FactsStats = { hits: 0, misses: 0, coalesced: 0, invalidations: 0, enabled: false };
  #stopListening: (() => Promise<void>) | null = null;

  /**
   * maxEntries bounds the facts each kind holds: a user, a client, an allocation pair each count
   * one, so a user's allocation set weighs its size and an account's client list (every client of
   * a practice, 10,000 and more) its length. An entry count alone let a few big lists hold
   * hundreds of MB.
   */
  constructor(handle: DatabaseHandle, maxEntries = 100_000) {
    this.#handle = handle;
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
   * Drops what a change touches. Payload: factChange(…) or "*". Anything else (the ':' format of
   * before, were that migration rolled back) drops everything: an unreadable change fails safe.
   */
  invalidate(payload: string): void {
    this.stats.invalidations += 1;
    this.#epoch += 1;
    const [table, key = '', accountId = ''] = payload.split(SEPARATOR);
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
    return this.#through(this.#users, id, async () => (await facts.findUser(this.#handle.db, id)) ?? NONE);
  }

  account(id: string): Promise<Account | null> {
    return this.#through(this.#accounts, id, async () => (await facts.findAccount(this.#handle.db, id)) ?? NONE);
  }

  client(id: string): Promise<Client | null> {
    return this.#through(this.#clients, id, async () => (await facts.findClient(this.#handle.db, id)) ?? NONE);
  }

  item(id: string): Promise<Item | null> {
    return this.#through(this.#items, id, async () => (await facts.findItem(this.#handle.db, id)) ?? NONE);
  }

  allocations(userId: string): Promise<ReadonlySet<string>> {
    return this.#through(this.#allocations, userId, async () => new Set(await facts.userClientIds(this.#handle.db, 'allocations', userId)));
  }

  ledgerAccess(userId: string): Promise<ReadonlySet<string>> {
    return this.#through(this.#ledgerAccess, userId, async () => new Set(await facts.userClientIds(this.#handle.db, 'ledger_access', userId)));
  }

  /** An API token row by id (null when unknown); expiry and revocation are for the caller to check. */
  token(id: string): Promise<ApiToken | null> {
    return this.#through(this.#tokens, id, async () => (await findToken(this.#handle.db, id)) ?? NONE);
  }

  accountClients(accountId: string): Promise<ClientSummary[]> {
    return this.#through(this.#accountClients, accountId, () => facts.accountClients(this.#handle.db, accountId));
  }
}
