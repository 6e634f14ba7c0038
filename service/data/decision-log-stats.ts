// Aggregates over the decision log in a time window of whole minutes, summed from the tallies the
// database keeps as entries are written (migration 2026-12-03T0400): counts by time bucket, the
// commonest refusal reasons and actions, and percentiles of the evaluation and total times from
// histograms. What an entry counts as:
// - allowed: allow true; denied: allow false by the policy; errors: allow false for want of a
//   decision or of a log entry (error set, but for log_entry_unstorable, whose verdict is the
//   policy's); lists: allow null, a list or reverse query that allows some resources and denies
//   others (a list refused with an error is an error like any refusal).
// - The reason and action tallies and the percentiles are of the entries with allow set.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** The window (since inclusive, until exclusive, both whole minutes) and its buckets: first and last start, and their stride. */
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

/**
 * One aggregate in a read-only transaction of its own, so that each may run on its own connection
 * (at once on PostgreSQL). Without JIT: compiling its expressions would cost more than it saves.
 */
function aggregate<R>(db: Kysely<Database>, query: RawBuilder<R>): Promise<R[]> {
  return db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx: Transaction<Database>) => {
      await sql`select set_config('jit', 'off', true)`.execute(trx);
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
 * The counts of the window from the tallies per minute: grouped by bucket, action and outcome, from
 * which the buckets and the top actions are summed; the top reasons from their own tally. Ties go
 * by code and by action.
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
        select date_bin(${w.stride}::interval, minute, ${BUCKET_ORIGIN}::timestamptz) as start, action, outcome, sum(n) as n
        from decision_log_minute_counts where minute >= ${w.since} and minute < ${w.until}
        group by 1, 2, 3),
      buckets as (
        select b.start,
               coalesce(sum(g.n) filter (where g.outcome = 'a'), 0) as allowed,
               coalesce(sum(g.n) filter (where g.outcome = 'd'), 0) as denied,
               coalesce(sum(g.n) filter (where g.outcome = 'e'), 0) as errors,
               coalesce(sum(g.n) filter (where g.outcome = 'l'), 0) as lists
        from generate_series(${w.first}::timestamptz, ${w.last}::timestamptz, ${w.stride}::interval) as b(start)
        left join groups g on g.start = b.start
        group by b.start),
      actions as (
        select nullif(action, '') as action,
               coalesce(sum(n) filter (where outcome = 'a'), 0) as allowed,
               coalesce(sum(n) filter (where outcome = 'd'), 0) as denied,
               coalesce(sum(n) filter (where outcome = 'e'), 0) as errors,
               sum(n) as total
        from groups where outcome <> 'l'
        group by action having sum(n) > 0 order by total desc, action limit ${top}),
      reasons as (
        select code, sum(n) as count from decision_log_minute_reasons
        where minute >= ${w.since} and minute < ${w.until}
        group by code having sum(n) > 0 order by count desc, code limit ${top})
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

/** Histogram bins grow by 5%: bin 0 holds times below 1 µs, bin b ≥ 1 those from 1.05^(b-1) to 1.05^b µs. */
const GROWTH = 1.05;

/**
 * PERCENTILES of a histogram as percentile_cont places them: between the values of rank ⌊p·(n−1)⌋
 * and ⌈p·(n−1)⌉ of the sorted values, each value estimated within its bin (5% wide) by geometric
 * interpolation among the bin's entries; so within 5% of the exact value.
 */
export function histogramPercentiles(bins: ReadonlyArray<{ bin: number; n: number }>): number[] | null {
  const sorted = bins.filter((b) => b.n > 0).sort((a, b) => a.bin - b.bin);
  const total = sorted.reduce((sum, b) => sum + b.n, 0);
  if (total === 0) return null;
  /** The value of rank k (0-based) among the sorted values. */
  const ranked = (k: number): number => {
    let before = 0;
    for (const { bin, n } of sorted) {
      if (k < before + n) return bin === 0 ? 0 : GROWTH ** (bin - 1 + (k - before + 0.5) / n);
      before += n;
    }
    return GROWTH ** (sorted.at(-1)?.bin ?? 0);
  };
  return PERCENTILES.map((p) => {
    const rank = p * (total - 1);
    const low = ranked(Math.floor(rank));
    return low + (ranked(Math.ceil(rank)) - low) * (rank - Math.floor(rank));
  });
}

const floorHour = (at: Date) => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);
const ceilHour = (at: Date) => new Date(Math.ceil(at.getTime() / 3_600_000) * 3_600_000);

/**
 * Percentiles of eval_us and duration_us over the entries with allow set, from their histograms:
 * the whole hours of the window from the hourly ones, its ragged ends from the per-minute ones;
 * null where no entry has the time (eval_us is null for an entry refused before the policy).
 */
export async function timePercentiles(
  db: Kysely<Database>,
  w: StatsWindow,
): Promise<{ eval_us: number[] | null; duration_us: number[] | null }> {
  let middle = { from: ceilHour(w.since), to: floorHour(w.until) };
  if (middle.from >= middle.to) middle = { from: w.until, to: w.until };
  const rows = await aggregate(
    db,
    sql<{ kind: string; bin: number; n: string }>`
      select kind, bin, sum(n) as n from (
        select kind, bin, n from decision_log_hour_times where hour >= ${middle.from} and hour < ${middle.to}
        union all
        select kind, bin, n from decision_log_minute_times
        where (minute >= ${w.since} and minute < ${middle.from}) or (minute >= ${middle.to} and minute < ${w.until})
      ) as t group by kind, bin`,
  );
  const of = (kind: string) =>
    histogramPercentiles(rows.filter((r) => r.kind === kind).map((r) => ({ bin: r.bin, n: Number(r.n) })));
  return { eval_us: of('e'), duration_us: of('d') };
}
