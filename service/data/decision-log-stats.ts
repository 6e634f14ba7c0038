// Aggregates over the decision log in a time window, computed by the database over the day
// partitions the window touches: counts by time bucket, the commonest refusal reasons and actions,
// and percentiles of the evaluation and total times. What an entry counts as:
// - allowed: allow true; denied: allow false by the policy; errors: allow false for want of a
//   decision or of a log entry (error set, but for log_entry_unstorable, whose verdict is the
//   policy's); lists: allow null, a list or reverse query that allows some resources and denies
//   others (a list refused with an error is an error like any refusal).
// - The reason and action tallies and the percentiles are of the entries with allow set.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** The window (since inclusive, until exclusive) and its buckets: first and last start, and their stride. */
export interface StatsWindow {
  since: Date;
  until: Date;
  first: Date;
  last: Date;
  /** A fixed length (PostgreSQL interval), so buckets do not depend on the session's time zone. */
  stride: '1 minute' | '1 hour' | '24 hours';
}

/** Bucket starts are whole strides from this origin (UTC midnight). */
export const BUCKET_ORIGIN = new Date('2000-01-01T00:00:00Z');

export interface Counts {
  allowed: number;
  denied: number;
  errors: number;
  lists: number;
}

const REFUSED = sql<boolean>`(error is not null and error->>'code' is distinct from 'log_entry_unstorable')`;

const inWindow = (w: StatsWindow) => sql`decided_at >= ${w.since} and decided_at < ${w.until}`;

/**
 * One aggregate in a read-only transaction of its own, so that each may run on its own connection
 * (in parallel on PostgreSQL). Without JIT: compiling the expressions took 0.4 s of a 1.4 s scan of
 * 2 million entries and saves less than that. The percentiles sort in memory up to work_mem.
 */
function aggregate<R>(db: Kysely<Database>, query: RawBuilder<R>, workMem?: string): Promise<R[]> {
  return db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx: Transaction<Database>) => {
      await sql`set local jit = off`.execute(trx);
      if (workMem !== undefined) await sql`select set_config('work_mem', ${workMem}, true)`.execute(trx);
      return (await query.execute(trx)).rows;
    });
}

/** Counts a bucket, every bucket of the window present (zeros where nothing was logged), oldest first. */
export async function countsByBucket(db: Kysely<Database>, w: StatsWindow): Promise<Array<Counts & { start: Date }>> {
  const rows = await aggregate(
    db,
    sql<{ start: Date; allowed: string; denied: string; errors: string; lists: string }>`
      with counted as (
        select date_bin(${w.stride}::interval, decided_at, ${BUCKET_ORIGIN}::timestamptz) as start,
               count(*) filter (where allow) as allowed,
               count(*) filter (where not allow and not ${REFUSED}) as denied,
               count(*) filter (where not allow and ${REFUSED}) as errors,
               count(*) filter (where allow is null) as lists
        from decision_log where ${inWindow(w)}
        group by 1)
      select b.start, coalesce(c.allowed, 0) as allowed, coalesce(c.denied, 0) as denied,
             coalesce(c.errors, 0) as errors, coalesce(c.lists, 0) as lists
      from generate_series(${w.first}::timestamptz, ${w.last}::timestamptz, ${w.stride}::interval) as b(start)
      left join counted c on c.start = b.start
      order by b.start`,
  );
  return rows.map((r) => ({
    start: new Date(r.start),
    allowed: Number(r.allowed),
    denied: Number(r.denied),
    errors: Number(r.errors),
    lists: Number(r.lists),
  }));
}

/** The reason codes of the entries refused (allow false), commonest first: an entry counts once for each of its codes. */
export async function topDenyReasons(
  db: Kysely<Database>,
  w: StatsWindow,
  limit: number,
): Promise<Array<{ code: string; count: number }>> {
  const rows = await aggregate(
    db,
    sql<{ code: string; count: string }>`
      select code, count(*) as count
      from decision_log cross join lateral unnest(reason_codes) as code
      where ${inWindow(w)} and allow = false
      group by code order by count(*) desc, code limit ${limit}`,
  );
  return rows.map((r) => ({ code: r.code, count: Number(r.count) }));
}

/** The actions of the entries with allow set, commonest first, with their outcomes. */
export async function topActions(
  db: Kysely<Database>,
  w: StatsWindow,
  limit: number,
): Promise<Array<{ action: string | null; allowed: number; denied: number; errors: number }>> {
  const rows = await aggregate(
    db,
    sql<{ action: string | null; allowed: string; denied: string; errors: string }>`
      select action,
             count(*) filter (where allow) as allowed,
             count(*) filter (where not allow and not ${REFUSED}) as denied,
             count(*) filter (where not allow and ${REFUSED}) as errors
      from decision_log where ${inWindow(w)} and allow is not null
      group by action order by count(*) desc, action limit ${limit}`,
  );
  return rows.map((r) => ({
    action: r.action,
    allowed: Number(r.allowed),
    denied: Number(r.denied),
    errors: Number(r.errors),
  }));
}

export const PERCENTILES = [0.5, 0.95, 0.99] as const;

/**
 * percentile_cont (interpolated) of eval_us and duration_us over the entries with allow set, at
 * PERCENTILES; null where none has the time (eval_us is null for an entry refused before the policy).
 */
export async function timePercentiles(
  db: Kysely<Database>,
  w: StatsWindow,
): Promise<{ eval_us: number[] | null; duration_us: number[] | null }> {
  const fractions = sql.raw(`array[${PERCENTILES.join(', ')}]::float8[]`);
  const [row] = await aggregate(
    db,
    sql<{ eval_us: number[] | null; duration_us: number[] | null }>`
      select percentile_cont(${fractions}) within group (order by eval_us) as eval_us,
             percentile_cont(${fractions}) within group (order by duration_us) as duration_us
      from decision_log where ${inWindow(w)} and allow is not null`,
    '64MB',
  );
  return { eval_us: row?.eval_us ?? null, duration_us: row?.duration_us ?? null };
}
