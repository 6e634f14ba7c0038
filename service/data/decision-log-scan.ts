// Reads a filtered decision log newest first without holding it: a page of rows at a time, for
// the reads that run over a whole log (impact analysis, the export). On PostgreSQL one query is
// read through a server-side cursor (a single scan, in one read-only transaction on its own
// connection); on the embedded engine by keyset pages (it has one connection, which a long
// transaction would hold from every request).
import { CompiledQuery, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.ts';

/** A row's keyset position, newest first: its time, then its id. */
interface Positioned {
  decision_id: string;
  decided_at: Date;
}

export interface ScanOptions {
  /** Through a server-side cursor (PostgreSQL), else by keyset pages. */
  cursor: boolean;
  /** Rows a page. */
  pageSize: number;
  /** At most this many rows; none: every match. */
  limit?: number;
}

/**
 * The rows of query (a select from decision_log, filtered, not ordered), newest first, a page at a
 * time; the next page is on its way while the caller handles one. A caller that stops early (a
 * break, a throw, return() on the generator) ends the read: the cursor's transaction is rolled back
 * and its connection given back once a page still on its way has come.
 */
export async function* scanDecisionLog<R extends Positioned>(
  db: Kysely<Database>,
  query: SelectQueryBuilder<Database, 'decision_log', R>,
  { cursor, pageSize, limit = Number.POSITIVE_INFINITY }: ScanOptions,
): AsyncGenerator<R[]> {
  const newestFirst = query.orderBy('decided_at', 'desc').orderBy('decision_id', 'desc');
  if (cursor) yield* throughCursor(db, newestFirst, pageSize, limit);
  else yield* byKeyset(newestFirst, pageSize, limit);
}

/**
 * A page read ahead while the caller holds the one before: its failure is taken when it is awaited
 * (or in finally), never left unhandled in between (which would end the process).
 */
function prefetched<R>(read: Promise<R>): Promise<R> {
  read.catch(() => undefined);
  return read;
}

async function* throughCursor<R extends Positioned>(
  db: Kysely<Database>,
  query: SelectQueryBuilder<Database, 'decision_log', R>,
  pageSize: number,
  limit: number,
): AsyncGenerator<R[]> {
  const compiled = (Number.isFinite(limit) ? query.limit(limit) : query).compile();
  const trx = await db.startTransaction().setAccessMode('read only').execute();
  let next: Promise<R[]> | undefined;
  try {
    await trx.executeQuery(
      CompiledQuery.raw(`declare clearance_scan no scroll cursor for ${compiled.sql}`, [...compiled.parameters]),
    );
    const fetch = async () =>
      (await trx.executeQuery<R>(CompiledQuery.raw(`fetch forward ${pageSize} from clearance_scan`))).rows;
    next = prefetched(fetch());
    for (;;) {
      const rows: R[] = await next;
      next = rows.length === pageSize ? prefetched(fetch()) : undefined;
      if (rows.length > 0) yield rows;
      if (next === undefined) return;
    }
  } finally {
    await next?.catch(() => undefined);
    // Read only: a rollback ends it as a commit would, and gives the connection back even when it fails.
    await trx.rollback().execute();
  }
}

async function* byKeyset<R extends Positioned>(
  query: SelectQueryBuilder<Database, 'decision_log', R>,
  pageSize: number,
  limit: number,
): AsyncGenerator<R[]> {
  let read = 0;
  const page = (after: Positioned | undefined, count: number) =>
    query
      .$if(after !== undefined, (q) =>
        q.where((eb) =>
          eb(
            eb.refTuple('decided_at', 'decision_id'),
            '<',
            eb.tuple((after as Positioned).decided_at, (after as Positioned).decision_id),
          ),
        ),
      )
      .limit(count)
      .execute();
  let asked = Math.min(pageSize, limit);
  let next: Promise<R[]> | undefined = prefetched(page(undefined, asked));
  try {
    for (;;) {
      const rows: R[] = await next;
      // The embedded engine answers on this thread: let requests in between pages.
      await new Promise((resolve) => setImmediate(resolve));
      read += rows.length;
      const last = rows.at(-1);
      next = undefined;
      if (rows.length === asked && last !== undefined && read < limit) {
        asked = Math.min(pageSize, limit - read);
        next = prefetched(page(last, asked));
      }
      if (rows.length > 0) yield rows;
      if (next === undefined) return;
    }
  } finally {
    await next?.catch(() => undefined);
  }
}
