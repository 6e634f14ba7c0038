// Statistics of the decision log for a time window, for the console's overview: decisions over time
// (every bucket present, so a chart has a continuous axis), the commonest refusal reasons and
// actions, and evaluation-time percentiles; what each counts is said in data/decision-log-stats.ts.
import type { Kysely } from 'kysely';
import {
  BUCKET_ORIGIN,
  type Counts,
  countsInWindow,
  type StatsWindow,
  timePercentiles,
} from '../data/decision-log-stats.ts';
import type { Database } from '../data/schema.ts';
import { badRequest } from '../errors.ts';
import { unavailableWhenFailing } from './decision-log-reader.ts';
import { checkWindow } from './paging.ts';

export type Bucket = 'minute' | 'hour' | 'day';

const MINUTE = 60_000;

const STRIDES: Record<Bucket, { ms: number; interval: StatsWindow['stride'] }> = {
  minute: { ms: 60_000, interval: '1 minute' },
  hour: { ms: 3_600_000, interval: '1 hour' },
  day: { ms: 86_400_000, interval: '24 hours' },
};

/** The most buckets one answer has: a day of minutes (1,440) fits, with its partial ends. */
export const MAX_BUCKETS = 1500;
/** The window when none is given: the day before until (until: now). */
export const DEFAULT_WINDOW_MS = 86_400_000;
/** Entries in the reason and action tallies. */
export const TOP = 10;

type Percentiles = { p50: number | null; p95: number | null; p99: number | null };

export interface DecisionStats {
  since: string;
  until: string;
  bucket: Bucket;
  totals: Counts;
  buckets: Array<Counts & { start: string }>;
  top_deny_reasons: Array<{ code: string; count: number }>;
  top_actions: Array<{ action: string | null; allowed: number; denied: number; errors: number }>;
  eval_us: Percentiles;
  duration_us: Percentiles;
}

/** The start of the bucket that holds at (UTC, whole strides from BUCKET_ORIGIN). */
const bucketStart = (at: number, stride: number) =>
  at - ((((at - BUCKET_ORIGIN.getTime()) % stride) + stride) % stride);

/** The values of data's PERCENTILES (0.5, 0.95, 0.99), named. */
const percentiles = (values: number[] | null): Percentiles => {
  const [p50 = null, p95 = null, p99 = null] = values ?? [];
  return { p50, p95, p99 };
};

/**
 * The window's statistics: since inclusive, until exclusive (default: the 24 hours before now),
 * widened to whole minutes, in buckets of a minute, an hour or a day starting on UTC boundaries
 * (the first and last count only the part inside the window). At most MAX_BUCKETS buckets (else
 * 400 naming bucket). Counts are exact; percentiles within 5% (histograms with bins 5% wide).
 */
export async function decisionStats(
  db: Kysely<Database>,
  query: { since?: Date; until?: Date; bucket: Bucket },
  now = new Date(),
): Promise<DecisionStats> {
  const asked = { until: query.until ?? now };
  const askedSince = query.since ?? new Date(asked.until.getTime() - DEFAULT_WINDOW_MS);
  checkWindow(askedSince, asked.until);
  // The tallies are per minute: the window widens to whole minutes, and the answer says so.
  const since = new Date(Math.floor(askedSince.getTime() / MINUTE) * MINUTE);
  const until = new Date(Math.ceil(asked.until.getTime() / MINUTE) * MINUTE);
  const stride = STRIDES[query.bucket];
  const first = bucketStart(since.getTime(), stride.ms);
  // until is exclusive: its bucket counts only when something before it falls in it.
  const last = bucketStart(until.getTime() - 1, stride.ms);
  const count = (last - first) / stride.ms + 1;
  if (count > MAX_BUCKETS) {
    throw badRequest(
      'invalid_request',
      `buckets of ${query.bucket === 'hour' ? 'an' : 'a'} ${query.bucket} over this window would be ${count}, more than ${MAX_BUCKETS}: choose a larger bucket or a shorter window`,
      { field: 'bucket' },
    );
  }
  const window: StatsWindow = { since, until, first: new Date(first), last: new Date(last), stride: stride.interval };
  // Two reads of the tallies, at once on PostgreSQL (each on a connection of its own).
  const [{ buckets, reasons, actions }, times] = await unavailableWhenFailing(
    Promise.all([countsInWindow(db, window, TOP), timePercentiles(db, window)]),
  );
  const totals: Counts = { allowed: 0, denied: 0, errors: 0, lists: 0 };
  for (const b of buckets) {
    totals.allowed += b.allowed;
    totals.denied += b.denied;
    totals.errors += b.errors;
    totals.lists += b.lists;
  }
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    bucket: query.bucket,
    totals,
    buckets: buckets.map(({ start, ...counts }) => ({ start: start.toISOString(), ...counts })),
    top_deny_reasons: reasons,
    top_actions: actions,
    eval_us: percentiles(times.eval_us),
    duration_us: percentiles(times.duration_us),
  };
}
