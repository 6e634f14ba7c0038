// The decision log at size: fills it with millions of entries over ten days (daily partitions)
// and times the operator queries of GET /v1/decisions through the same domain code, first page and
// a page deep in the cursor. Reused when the log already holds them. The statistics benchmark
// (bench/decision-stats.ts) fills its own log the same way, over seven days.
import { sql, type Kysely } from 'kysely';
import { maintainDecisionLogPartitions } from '../service/data/decision-log.ts';
import type { Database } from '../service/data/schema.ts';
import { listDecisions, type DecisionLogQuery } from '../service/domain/decision-log-reader.ts';

export const LOG_ROWS = 2_000_000;
const DAYS = 10;

export interface LogQueryTiming {
  query: string;
  firstPageMs: number;
  /** null when there are fewer than 20 pages. */
  deepPageMs: number | null;
  rows: number;
}

/**
 * Fills decision_log with `rows` synthetic entries spread evenly over the `days` days before now
 * (LOG_ROWS over DAYS unless told), unless it holds that many already.
 */
export async function fillDecisionLog(
  db: Kysely<Database>,
  { now = new Date(), rows: total = LOG_ROWS, days = DAYS }: { now?: Date; rows?: number; days?: number } = {},
): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  const { rows } = await sql<{ n: string }>`select count(*) as n from decision_log`.execute(db);
  if (Number(rows[0]?.n) >= total) return { rows: Number(rows[0]?.n), seconds: 0 };
  await sql`truncate decision_log`.execute(db);
  for (let day = days; day >= 0; day -= 4) {
    await maintainDecisionLogPartitions(db, {
      now: new Date(now.getTime() - day * 86_400_000),
      daysAhead: 3,
      retentionDays: 3650,
    });
  }
  // Realistic shapes: 2,000 subjects, 7 actions, a few reason codes, inputs of a typical size; a
  // sixth are list queries (allow null), one in 499 refused for want of its facts (error set, no
  // evaluation time); evaluation times skewed (most near 8 µs, a tail to 200 µs; lists 2-12 ms).
  const chunk = 200_000;
  for (let from = 0; from < total; from += chunk) {
    await sql`
      insert into decision_log (decision_id, decided_at, endpoint, batch_id, token_id, subject_id, action, resource_type, resource_id,
                                allow, reason_codes, input, result, masked, error, policy_revision, eval_us, duration_us)
      select gen_random_uuid(),
             ${now}::timestamptz - (i::double precision / ${total}::int) * interval '${sql.raw(String(days))} days',
             (array['decide','decide','decide','batch','query','opa'])[1 + i % 6],
             null, 'bench', format('p%s-u%s', lpad((1 + i % 200)::text, 4, '0'), lpad((1 + (i / 200) % 10)::text, 3, '0')),
             (array['client.view','client.edit','item.view','item.edit','item.publish','settings.view','user.update'])[1 + (i / 7) % 7],
             'client', case when k = 'list' then null else format('c%s', i % 50000) end,
             case k when 'list' then null when 'allow' then true else false end,
             case k when 'list' then array['client_not_allocated'] when 'error' then array['context_unavailable']
                    when 'allow' then array['top_admin'] when 'deny' then array['client_not_allocated']
                    else array['ledger_access_required', 'client_not_allocated'] end,
             jsonb_build_object('action', 'client.view', 'subject', jsonb_build_object('id', 'u', 'role', 'standard', 'found', true),
                                'resource', jsonb_build_object('type', 'client', 'id', format('c%s', i % 50000), 'ledger', 'xero', 'allocated', i % 2 = 0)),
             '{"allow": false, "reasons": [{"code": "client_not_allocated", "message": "the client is not allocated to the user"}]}',
             '[]', case when k = 'error' then '{"code": "context_unavailable", "message": "the facts could not be read"}'::jsonb end,
             'bench-revision', e, coalesce(e, 0) + 40 + (i::bigint * 104729 % 400) / 10.0
      from generate_series(${from}::int, ${Math.min(from + chunk, total) - 1}::int) i,
           lateral (select case when i % 6 = 4 then 'list' when i % 499 = 0 then 'error' when i % 3 = 0 then 'allow'
                                when i % 3 = 1 then 'deny' else 'deny2' end as k) kind,
           lateral (select case k when 'error' then null when 'list' then 2000 + (i::bigint * 7919 % 10000)
                                  else 8 + power((i::bigint * 7919 % 1000) / 1000.0, 3) * 200 end::double precision as e) eval`.execute(
      db,
    );
  }
  await sql`analyze decision_log`.execute(db);
  return { rows: total, seconds: (performance.now() - started) / 1000 };
}

const QUERIES: Array<[string, Omit<DecisionLogQuery, 'limit'>]> = [
  ['newest', {}],
  ['subject_id', { subjectId: 'p0007-u003' }],
  ['action + allow=false', { action: 'item.publish', allow: false }],
  ['reason_code', { reasonCode: 'ledger_access_required' }],
  ['resource_id', { resourceId: 'c4242' }],
  [
    'since/until (one day, three days back)',
    { since: new Date(Date.now() - 4 * 86_400_000), until: new Date(Date.now() - 3 * 86_400_000) },
  ],
  ['subject_id + reason_code', { subjectId: 'p0007-u003', reasonCode: 'client_not_allocated' }],
];

/** Each query: the first page of 100, then the 20th page following the cursor (median of 3 runs each). */
export async function timeLogQueries(db: Kysely<Database>): Promise<LogQueryTiming[]> {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const timings: LogQueryTiming[] = [];
  for (const [name, filter] of QUERIES) {
    const first: number[] = [];
    const deep: number[] = [];
    let rows = 0;
    for (let run = 0; run < 3; run++) {
      let t0 = performance.now();
      let page = await listDecisions(db, { ...filter, limit: 100 });
      first.push(performance.now() - t0);
      rows = page.decisions.length;
      let cursor = page.next_cursor;
      for (let p = 2; p < 20 && cursor !== null; p++)
        cursor = (await listDecisions(db, { ...filter, limit: 100, cursor })).next_cursor;
      if (cursor === null) continue;
      t0 = performance.now();
      page = await listDecisions(db, { ...filter, limit: 100, cursor });
      deep.push(performance.now() - t0);
    }
    const round = (ms: number) => Math.round(ms * 10) / 10;
    timings.push({
      query: name,
      firstPageMs: round(median(first)),
      deepPageMs: deep.length === 0 ? null : round(median(deep)),
      rows,
    });
  }
  return timings;
}
