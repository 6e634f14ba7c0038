// PostgreSQL connections through pg, without Kysely: the pool and its settings, and clients lent
// with each statement bounded in time. connect.ts builds Kysely on them; the decision log's writer
// thread uses them as they are, so it does not load Kysely (README, "Memory").
import pg from 'pg';

/**
 * TCP keepalive probes after this long idle: the kernel ends a connection whose peer is gone,
 * even one nothing is being sent on (how soon after depends on the probe interval and count the
 * platform sets).
 */
export const KEEPALIVE_AFTER_MS = 10_000;
/** Opening a connection, or waiting for a free one in the pool (pg's connectionTimeoutMillis). */
export const CONNECT_TIMEOUT_MS = 3000;
/** Client-side bound of one statement on DatabaseHandle.db (a decision's queries take milliseconds). */
export const QUERY_TIMEOUT_MS = 5000;
/**
 * Client-side bound of one statement on DatabaseHandle.longDb: far above what the longest takes
 * (a 10,000-record sync is under 2 s on a loaded machine), yet a statement to a database that
 * stopped answering still ends, so the decision log's writer retries on a fresh connection.
 */
export const LONG_QUERY_TIMEOUT_MS = 120_000;

// Numeric types come back as JS numbers where they fit; ids are text anyway.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** Rejects with an error coded ETIMEDOUT (a lost database, to fromDatabaseError) if work takes over ms. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * What the server refuses carries its SQLSTATE; what pg itself throws when the connection is
 * lost ("Connection terminated unexpectedly", a connect timeout) carries no code at all. Those are
 * coded ECONNLOST here, so every caller tells a lost database from a bug the same way.
 */
function codedLoss(error: unknown): never {
  if (error instanceof Error && typeof (error as { code?: unknown }).code !== 'string') {
    throw Object.assign(new Error(error.message, { cause: error }), { code: 'ECONNLOST' });
  }
  throw error;
}

/** The pool every use of one database URL in a thread shares. */
export function openPool(url: string, onPoolError?: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', (error) => onPoolError?.(error));
  // pg-pool only listens for errors on idle clients; one lost mid-query would otherwise be an
  // uncaught exception. The query itself still fails (and the decision is refused).
  pool.on('connect', (client) => client.on('error', (error) => onPoolError?.(error)));
  return pool;
}

/** A client lent by the pool whose statements are bounded; give it back with release(). */
export interface BoundedClient {
  /** A named statement is prepared once per connection and reused by name. */
  query(text: string, parameters: ReadonlyArray<unknown>, name?: string): Promise<pg.QueryResult>;
  /** A statement ran out of time: the connection still waits on it, and is destroyed when given back. */
  readonly timedOut: boolean;
  /** Gives the client back, destroyed (never lent again) when asked or when a statement ran out of time. */
  release(destroy?: boolean): void;
}

/**
 * Lends a client whose every statement is bounded by timeoutMs (null: unbounded). A connection
 * whose statement ran out of time is destroyed when it is given back, never lent again: it still
 * waits on the lost statement, and whatever it was given next would queue behind it (why not pg's
 * own query_timeout, which answers the caller but keeps the connection).
 */
export async function connectBounded(pool: pg.Pool, timeoutMs: number | null): Promise<BoundedClient> {
  const client = await pool.connect().catch(codedLoss);
  let timedOut = false;
  return {
    query: (text, parameters, name) => {
      const work = client.query({ text, values: parameters as unknown[], name }).catch(codedLoss);
      if (timeoutMs === null) return work;
      return withTimeout(work, timeoutMs, 'the database', () => {
        timedOut = true;
      });
    },
    get timedOut() {
      return timedOut;
    },
    release: (destroy) => client.release(destroy === true || timedOut),
  };
}
