// Opens the database: PostgreSQL through pg when a URL is given, else embedded PGlite on disk.
// Both go through Kysely's PostgreSQL dialect, so queries and migrations are the same.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import {
  CONNECT_TIMEOUT_MS,
  connectBounded,
  KEEPALIVE_AFTER_MS,
  LONG_QUERY_TIMEOUT_MS,
  openPool,
  QUERY_TIMEOUT_MS,
  withTimeout,
} from './pg-pool.ts';
import { PGLITE_SHARED_BUFFERS_DEFAULT, PGlitePool } from './pglite-pool.ts';
import type { Database } from './schema.ts';

export type Engine = 'postgres' | 'pglite';

export interface DatabaseHandle {
  /**
   * Each statement bounded by QUERY_TIMEOUT_MS: the decision path (facts, tokens) and the short
   * reads and writes, so a database that stops answering refuses a decision instead of hanging it.
   */
  db: Kysely<Database>;
  /**
   * Each statement bounded by LONG_QUERY_TIMEOUT_MS: what may take long by nature — every write of
   * the context API (a bulk sync of 10,000 records, an account deleted with all it holds, with
   * their audit rows), decision log writes, the operator's queries over the decision log and audit
   * trail, partition maintenance (which waits for locks and purges rows).
   */
  longDb: Kysely<Database>;
  /**
   * No bound: migrations. One cut short is rolled back and retried from the start, and would be
   * cut short again at every retry (an index over a large table may take minutes); TCP keepalive
   * still ends one whose server is gone. The same pool as db and longDb.
   */
  migrationDb: Kysely<Database>;
  engine: Engine;
  /** PostgreSQL: the connection string the pool was opened with (another thread may open its own with it). */
  url?: string;
  /** Resolves when a trivial query answers within timeoutMs; rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /**
   * Follows a notification channel. onUp is called each time the subscription (re)starts,
   * onDown when it is lost (notifications may have been missed); it reconnects by itself.
   * Returns a function that stops listening.
   */
  listen(channel: string, handlers: ListenHandlers): () => Promise<void>;
  close(): Promise<void>;
}

export interface ListenHandlers {
  onNotify(payload: string): void;
  onUp(): void;
  onDown(error: Error): void;
}

export interface OpenOptions {
  databaseUrl: string | null;
  /** Folder for the embedded engine's files; null keeps it in memory (tests). */
  dataDir: string | null;
  /**
   * The embedded engine's shared_buffers (PostgreSQL units, e.g. "32MB"): most of its resident
   * memory at rest. Unset: PGLITE_SHARED_BUFFERS_DEFAULT.
   */
  pgliteSharedBuffers?: string;
  onPoolError?: (error: Error) => void;
}

/**
 * How often the notification connection is asked a round trip, and how long it has to answer. A
 * connection can die without a word (half-open TCP: a server gone, a NAT entry dropped): no error,
 * no close, and no notification ever again, while the cache goes on being used. A round trip that
 * does not come back in time counts as the feed lost, so such a silence is noticed within the sum.
 */
export const FEED_CHECK_EVERY_MS = 2000;
export const FEED_CHECK_TIMEOUT_MS = 2000;

/**
 * The pool as one Kysely instance sees it, each statement bounded by timeoutMs (null: unbounded;
 * pg-pool.ts's connectBounded). The pool is shared, so ending it is the handle's close, not any
 * one instance's.
 */
function boundedPool(pool: pg.Pool, timeoutMs: number | null): PostgresPool {
  return {
    options: pool.options,
    // Kysely only uses the cursor overload of query() when a cursor class is configured; none is.
    connect: async () => (await connectBounded(pool, timeoutMs)) as unknown as PostgresPoolClient,
    end: async () => undefined,
  };
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl !== null) {
    const pool = openPool(options.databaseUrl, options.onPoolError);
    const url = options.databaseUrl;
    const kysely = (timeoutMs: number | null) =>
      new Kysely<Database>({ dialect: new PostgresDialect({ pool: boundedPool(pool, timeoutMs) }) });
    const dbs = { db: kysely(QUERY_TIMEOUT_MS), longDb: kysely(LONG_QUERY_TIMEOUT_MS), migrationDb: kysely(null) };
    const opened = handle(
      dbs,
      'postgres',
      (channel, handlers) => listenPostgres(url, channel, handlers),
      async () => {
        await Promise.all(Object.values(dbs).map((db) => db.destroy()));
        await pool.end();
      },
    );
    return { ...opened, url };
  }
  // Loaded only here: a process (or the decision log's writer thread) on PostgreSQL never holds it.
  const { PGlite } = await import('@electric-sql/pglite');
  // A start parameter, not postgresql.conf: nothing is written into the data folder.
  const startParams = [
    ...PGlite.defaultStartParams,
    '-c',
    `shared_buffers=${options.pgliteSharedBuffers ?? PGLITE_SHARED_BUFFERS_DEFAULT}`,
  ];
  let pglite: PGlite;
  if (options.dataDir === null) {
    pglite = await PGlite.create({ startParams });
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    pglite = await PGlite.create(join(options.dataDir, 'pglite'), { startParams });
  }
  // In-process: no network to go silent, so no bounds; one instance serves all three uses.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
  const listen: Listen = (channel, handlers) => {
    // In-process: the subscription cannot drop, so it is up once subscribed.
    const subscribed = pglite
      .listen(channel, (payload) => handlers.onNotify(payload))
      .then((unsubscribe) => {
        handlers.onUp();
        return unsubscribe;
      });
    return async () => {
      const unsubscribe = await subscribed;
      if (!pglite.closed) await unsubscribe();
    };
  };
  return handle({ db, longDb: db, migrationDb: db }, 'pglite', listen, () => db.destroy());
}

/**
 * A dedicated connection for LISTEN, reconnecting with backoff after it is lost. It is checked
 * with a round trip every FEED_CHECK_EVERY_MS: one that fails or takes over FEED_CHECK_TIMEOUT_MS
 * is a lost feed like any other (onDown, the connection ended, a new one opened).
 */
function listenPostgres(url: string, channel: string, handlers: ListenHandlers): () => Promise<void> {
  let stopped = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | undefined;
  let check: NodeJS.Timeout | undefined;
  let failures = 0;
  const connect = async () => {
    if (stopped) return;
    const next = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
    });
    let lost = false;
    const onLost = (error: Error) => {
      if (lost) return;
      lost = true;
      clearTimeout(check);
      next.removeAllListeners('notification');
      // With the check still waiting, end() destroys the socket rather than wait for a goodbye
      // that a silent connection would never send.
      void next.end().catch(() => undefined);
      if (stopped) return;
      handlers.onDown(error);
      failures += 1;
      timer = setTimeout(() => void connect(), Math.min(250 * 2 ** Math.min(failures, 6), 10_000));
    };
    const scheduleCheck = () => {
      check = setTimeout(() => {
        withTimeout(next.query('select 1'), FEED_CHECK_TIMEOUT_MS, 'the notification connection')
          .then(() => {
            if (!lost && !stopped) scheduleCheck();
          })
          .catch((error: Error) => onLost(error));
      }, FEED_CHECK_EVERY_MS);
    };
    next.on('error', onLost);
    next.on('end', () => onLost(new Error('notification connection closed')));
    next.on('notification', (message) => handlers.onNotify(message.payload ?? ''));
    try {
      await next.connect();
      await withTimeout(
        next.query(`listen ${pg.escapeIdentifier(channel)}`),
        FEED_CHECK_TIMEOUT_MS,
        'the notification connection',
      );
    } catch (error) {
      onLost(error as Error);
      return;
    }
    if (stopped) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    failures = 0;
    handlers.onUp();
    scheduleCheck();
  };
  void connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(check);
    // A silent connection never says goodbye back: the stop does not wait on it for long.
    if (client !== null)
      await withTimeout(client.end(), FEED_CHECK_TIMEOUT_MS, 'the notification connection').catch(() => undefined);
  };
}

type Listen = DatabaseHandle['listen'];
type Databases = Pick<DatabaseHandle, 'db' | 'longDb' | 'migrationDb'>;

function handle(dbs: Databases, engine: Engine, listen: Listen, close: () => Promise<void>): DatabaseHandle {
  return {
    ...dbs,
    engine,
    listen,
    async ping(timeoutMs = 2000) {
      await withTimeout(sql`select 1`.execute(dbs.db), timeoutMs, 'database');
    },
    close,
  };
}
