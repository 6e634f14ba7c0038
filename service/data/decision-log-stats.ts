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
 * (at once on PostgreSQL). Without JIT: compiling the expressions took 0.4 s of a 1.4 s scan of two
 * million entries and saved less than that. With the index's pages priced as the cached pages they
 * mostly are (random_page_cost 1.1, PostgreSQL's advice for SSDs; its default 4 has the planner
 * read the whole table, four times the bytes, for a wide window), a window is read from
 * decision_log_stats_idx alone. The percentiles sort in memory up to work_mem.
 */
function aggregate<R>(db: Kysely<Database>, query: RawBuilder<R>, workMem?: string): Promise<R[]> {
  return db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx: Transaction<Database>) => {
      await sql`select set_config('jit', 'off', true), set_config('random_page_cost', '1.1', true),
                       set_config('work_mem', coalesce(${workMem ?? null}::text, current_setting('work_mem')), true)`.execute(
        trx,
      );
      return (await query.execute(trx)).rows;
    });
}

export interface WindowCounts {
  /** Every bucket of the window, oldest first (zeros where nothing was logged). */
  buckets: Array<Counts & { start: Date }>;
  /** The reason codes of the entries refused (allow false), commonest first: an entry counts once for each of its codes. */
  reasons: Array<{ code: string; count: number }>;
  /** The actions of the entries with allow set, commonest first, with their outcomes. */
  actions: Array<{ action: string | null; allowed: number; denied: number; errors: number }>;
}

/**
 * The counts of the window in one scan of its entries: they are first grouped by bucket, action,
 * outcome and reason codes (a few thousand groups for millions of entries), and the buckets, the
 * top reasons and the top actions are summed from those groups. Ties go by code and by action.
 */
export async function countsInWindow(db: Kysely<Database>, w: StatsWindow, top: number): Promise<WindowCounts> {
  const [row] = await aggregate(
    db,
    sql<{
      counts: {
        buckets: JsonCounts[] | null;
        reasons: Array<{ code: string; count: number }> | null;
        actions: WindowCounts['actions'] | null;
      };
    }>`
      with groups as materialized (
        select date_bin(${w.stride}::interval, decided_at, ${BUCKET_ORIGIN}::timestamptz) as start, action, allow,
               ${REFUSED} as refused, case when allow = false then reason_codes end as codes, count(*) as n
        from decision_log where ${inWindow(w)}
        group by 1, 2, 3, 4, 5),
      buckets as (
        select b.start,
               coalesce(sum(g.n) filter (where g.allow), 0) as allowed,
               coalesce(sum(g.n) filter (where not g.allow and not g.refused), 0) as denied,
               coalesce(sum(g.n) filter (where not g.allow and g.refused), 0) as errors,
               coalesce(sum(g.n) filter (where g.allow is null), 0) as lists
        from generate_series(${w.first}::timestamptz, ${w.last}::timestamptz, ${w.stride}::interval) as b(start)
        left join groups g on g.start = b.start
        group by b.start),
      actions as (
        select action,
               coalesce(sum(n) filter (where allow), 0) as allowed,
               coalesce(sum(n) filter (where not allow and not refused), 0) as denied,
               coalesce(sum(n) filter (where not allow and refused), 0) as errors,
               sum(n) as total
        from groups where allow is not null
        group by action order by total desc, action limit ${top}),
      reasons as (
        select code, sum(n) as count from groups cross join lateral unnest(codes) as code
        group by code order by count desc, code limit ${top})
      select json_build_object(
        'buckets', (select json_agg(json_build_object('start', start, 'allowed', allowed, 'denied', denied,
                                                      'errors', errors, 'lists', lists) order by start) from buckets),
        'reasons', (select json_agg(json_build_object('code', code, 'count', count) order by count desc, code) from reasons),
        'actions', (select json_agg(json_build_object('action', action, 'allowed', allowed, 'denied', denied,
                                                      'errors', errors) order by total desc, action) from actions)
      ) as counts`,
  );
  const counts = row?.counts;
  return {
    buckets: (counts?.buckets ?? []).map(({ start, ...rest }) => ({ start: new Date(start), ...rest })),
    reasons: counts?.reasons ?? [],
    actions: counts?.actions ?? [],
  };
}

type JsonCounts = Counts & { start: string };

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
