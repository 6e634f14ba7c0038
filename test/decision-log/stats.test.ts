// Operators chart the decision log: counts in time buckets (empty ones zero), the commonest refusal
// reasons and actions, and time percentiles, each equal to the same figure asked of the database
// directly; a window that is empty, inverted or has too many buckets is refused naming the field.
import { sql, type Kysely } from 'kysely';
import t from 'tap';
import { insertDecisionLogRows } from '../../service/data/decision-log.ts';
import type { Database, NewDecisionLogRow } from '../../service/data/schema.ts';
import { buildTestApp } from '../helpers/app.ts';
import { logRow } from '../helpers/decision-log.ts';
import { makeToken } from '../helpers/fixtures.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Counts {
  allowed: number;
  denied: number;
  errors: number;
  lists: number;
}

/**
 * 600 entries in hours 0, 1, 2, 4 and 5 after base (none in hour 3): allowed, denied by the
 * policy, refused for want of facts, answered lists, and the odd ones — an entry stored without its
 * input (an allow, error log_entry_unstorable), a list refused, an OPA answer about no request.
 */
function spread(base: number): NewDecisionLogRow[] {
  const codes = Array.from({ length: 12 }, (_, i) => `code_${String.fromCharCode(97 + i)}`);
  return Array.from({ length: 600 }, (_, i) => {
    const at = new Date(base + ([0, 1, 2, 4, 5][i % 5] as number) * HOUR + ((i * 7) % 60) * MINUTE + (i % 60) * 1000);
    const common = {
      decided_at: at,
      action: `action_${String(Math.floor(((i * 7919) % 1000) / 60)).padStart(2, '0')}`,
      eval_us: 1.5 + ((i * 37) % 100),
      duration_us: 10.25 + ((i * 13) % 200),
    };
    const kind = i % 10;
    if (kind <= 3) return logRow({ ...common, allow: true, reason_codes: ['top_admin'] });
    if (kind <= 6) {
      const first = codes[(i * 5) % 12] as string;
      const second = codes[(i * 3) % 7] as string;
      return logRow({ ...common, allow: false, reason_codes: first === second ? [first] : [first, second] });
    }
    if (kind === 7) {
      const code = i % 3 === 0 ? 'policy_error' : 'context_unavailable';
      return logRow({
        ...common,
        allow: false,
        reason_codes: [code],
        error: JSON.stringify({ code, message: 'no decision' }),
        eval_us: null,
      });
    }
    if (kind === 8) {
      return logRow({ ...common, endpoint: i % 4 === 0 ? 'subjects' : 'query', allow: null, eval_us: 2000 + i });
    }
    return [
      logRow({
        ...common,
        allow: true,
        reason_codes: ['top_admin'],
        error: JSON.stringify({ code: 'log_entry_unstorable', message: 'too big' }),
      }),
      logRow({
        ...common,
        endpoint: 'query',
        allow: false,
        reason_codes: ['context_unavailable'],
        error: JSON.stringify({ code: 'context_unavailable', message: 'no facts' }),
        eval_us: null,
      }),
      logRow({ ...common, endpoint: 'opa', action: null, subject_id: null, allow: false, reason_codes: ['code_z'] }),
    ][i % 3] as NewDecisionLogRow;
  });
}

/** The four counts of [lo, hi), asked of the database in the plainest terms. */
async function countsBetween(db: Kysely<Database>, lo: Date, hi: Date): Promise<Counts> {
  const { rows } = await sql<Record<keyof Counts, number>>`
    select (select count(*) from decision_log where decided_at >= ${lo} and decided_at < ${hi} and allow)::int as allowed,
           (select count(*) from decision_log where decided_at >= ${lo} and decided_at < ${hi} and allow = false
              and (error is null or error->>'code' = 'log_entry_unstorable'))::int as denied,
           (select count(*) from decision_log where decided_at >= ${lo} and decided_at < ${hi} and allow = false
              and error is not null and error->>'code' <> 'log_entry_unstorable')::int as errors,
           (select count(*) from decision_log where decided_at >= ${lo} and decided_at < ${hi} and allow is null)::int as lists`.execute(
    db,
  );
  return rows[0] as Counts;
}

t.test('given 600 logged entries over six hours, one of them empty', async (t) => {
  const { app, database } = await buildTestApp(t);
  const base = Math.floor(Date.now() / HOUR) * HOUR - 8 * HOUR;
  const rows = spread(base);
  await insertDecisionLogRows(database.db, rows);
  const logs = await makeToken(database.db, ['logs']);
  const get = (url: string, token = logs) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  // Neither end on a bucket boundary: the first and last buckets count part of their hour.
  const since = new Date(base + 17 * MINUTE);
  const until = new Date(base + 5 * HOUR + 30 * MINUTE);
  const window = `since=${since.toISOString()}&until=${until.toISOString()}`;
  const stats = (await get(`/v1/decisions/stats?${window}`)).json();

  t.test(
    'when asked by the hour, then each bucket counts what a direct count of its part of the window does',
    async (t) => {
      t.equal(stats.bucket, 'hour');
      t.equal(stats.since, since.toISOString());
      t.equal(stats.until, until.toISOString());
      t.same(
        stats.buckets.map((b: { start: string }) => b.start),
        [0, 1, 2, 3, 4, 5].map((h) => new Date(base + h * HOUR).toISOString()),
        'every hour of the window, from the one since falls in, on the hour',
      );
      for (const [h, bucket] of (stats.buckets as Array<Counts & { start: string }>).entries()) {
        const lo = new Date(Math.max(base + h * HOUR, since.getTime()));
        const hi = new Date(Math.min(base + (h + 1) * HOUR, until.getTime()));
        const { start, ...counts } = bucket;
        t.same(counts, await countsBetween(database.db, lo, hi), start);
      }
      t.same(stats.buckets[3], {
        start: new Date(base + 3 * HOUR).toISOString(),
        allowed: 0,
        denied: 0,
        errors: 0,
        lists: 0,
      });
      t.same(stats.totals, await countsBetween(database.db, since, until));
    },
  );

  t.test('when counted from what was written, then the totals agree', async (t) => {
    const inside = rows.filter((r) => (r.decided_at as Date) >= since && (r.decided_at as Date) < until);
    const refused = (r: NewDecisionLogRow) =>
      r.error !== null && r.error !== undefined && !r.error.includes('log_entry_unstorable');
    t.same(stats.totals, {
      allowed: inside.filter((r) => r.allow === true).length,
      denied: inside.filter((r) => r.allow === false && !refused(r)).length,
      errors: inside.filter((r) => r.allow === false && refused(r)).length,
      lists: inside.filter((r) => r.allow === null).length,
    });
    t.ok(stats.totals.errors > 0 && stats.totals.lists > 0, 'every kind is there');
    t.ok(inside.length < rows.length, 'the window leaves some out');
  });

  t.test('when asked by the minute and by the day, then the same entries are counted', async (t) => {
    for (const bucket of ['minute', 'day']) {
      const other = (await get(`/v1/decisions/stats?${window}&bucket=${bucket}`)).json();
      t.same(other.totals, stats.totals, bucket);
      const sum = (key: keyof Counts) => (other.buckets as Counts[]).reduce((total, b) => total + b[key], 0);
      t.same(
        { allowed: sum('allowed'), denied: sum('denied'), errors: sum('errors'), lists: sum('lists') },
        stats.totals,
      );
    }
    const minutes = (await get(`/v1/decisions/stats?${window}&bucket=minute`)).json();
    t.equal(minutes.buckets.length, (until.getTime() - (base + 17 * MINUTE)) / MINUTE, 'every minute of the window');
    const busiest = (minutes.buckets as Array<Counts & { start: string }>).reduce((a, b) =>
      b.allowed + b.denied + b.errors + b.lists > a.allowed + a.denied + a.errors + a.lists ? b : a,
    );
    const { start, ...counts } = busiest;
    const from = new Date(start);
    t.same(
      counts,
      await countsBetween(database.db, from, new Date(from.getTime() + MINUTE)),
      `the busiest minute, ${start}`,
    );
    const quiet = minutes.buckets.filter((b: Counts) => b.allowed + b.denied + b.errors + b.lists === 0);
    t.ok(quiet.length >= 60, 'the empty hour is sixty zero minutes');
  });

  t.test('when the reasons are tallied, then they are the commonest ten of a direct count, ties by code', async (t) => {
    const { rows: direct } = await sql<{ code: string; count: number }>`
      select code, count(*)::int as count from decision_log, unnest(reason_codes) as code
      where decided_at >= ${since} and decided_at < ${until} and allow = false
      group by code order by count(*) desc, code`.execute(database.db);
    t.ok(direct.length > 10, `more than ten codes (${direct.length})`);
    t.same(stats.top_deny_reasons, direct.slice(0, 10));
  });

  t.test(
    'when the actions are tallied, then they are the commonest ten of a direct count, with outcomes',
    async (t) => {
      const { rows: direct } = await sql<{ action: string | null; allowed: number; denied: number; errors: number }>`
      select action,
             count(*) filter (where allow)::int as allowed,
             count(*) filter (where allow = false and (error is null or error->>'code' = 'log_entry_unstorable'))::int as denied,
             count(*) filter (where allow = false and error->>'code' <> 'log_entry_unstorable')::int as errors
      from decision_log where decided_at >= ${since} and decided_at < ${until} and allow is not null
      group by action order by count(*) desc, action nulls last`.execute(database.db);
      t.ok(direct.length > 10, `more than ten actions (${direct.length})`);
      t.same(stats.top_actions, direct.slice(0, 10));
    },
  );

  t.test('when the times are summarised, then the percentiles are within 5% of a direct query', async (t) => {
    for (const column of ['eval_us', 'duration_us'] as const) {
      const { rows: direct } = await sql<{ p50: number; p95: number; p99: number }>`
        select percentile_cont(0.5) within group (order by ${sql.ref(column)}) as p50,
               percentile_cont(0.95) within group (order by ${sql.ref(column)}) as p95,
               percentile_cont(0.99) within group (order by ${sql.ref(column)}) as p99
        from decision_log where decided_at >= ${since} and decided_at < ${until} and allow is not null`.execute(
        database.db,
      );
      const expected = direct[0] as { p50: number; p95: number; p99: number };
      for (const p of ['p50', 'p95', 'p99'] as const) {
        // From histograms with bins 5% wide (the tallies kept as entries are written).
        t.ok(
          Math.abs(stats[column][p] - expected[p]) <= 0.05 * expected[p],
          `${column} ${p}: ${stats[column][p]} within 5% of ${expected[p]}`,
        );
      }
    }
    t.ok(stats.eval_us.p99 < 2000, 'answered lists (2,000 µs and more here) are not in them');
  });

  t.test('when the window holds nothing, then every bucket is zero and no percentile is given', async (t) => {
    const empty = (
      await get(
        `/v1/decisions/stats?since=${new Date(base - 10 * HOUR).toISOString()}&until=${new Date(base - 8 * HOUR).toISOString()}`,
      )
    ).json();
    t.equal(empty.buckets.length, 2);
    t.same(empty.totals, { allowed: 0, denied: 0, errors: 0, lists: 0 });
    t.same(empty.top_deny_reasons, []);
    t.same(empty.top_actions, []);
    t.same(empty.eval_us, { p50: null, p95: null, p99: null });
    t.same(empty.duration_us, { p50: null, p95: null, p99: null });
  });

  t.test('when no window is given, then it is the 24 hours before now, by the hour', async (t) => {
    const before = Date.now();
    const body = (await get('/v1/decisions/stats')).json();
    const end = new Date(body.until).getTime();
    t.ok(end >= before && end <= Date.now() + MINUTE && end % MINUTE === 0, 'until is now, to the next whole minute');
    const start = new Date(body.since).getTime();
    t.ok(
      start % MINUTE === 0 && end - start >= 24 * HOUR && end - start <= 24 * HOUR + MINUTE,
      'since: 24 hours before, whole minutes',
    );
    t.equal(body.bucket, 'hour');
    t.ok(body.buckets.length === 24 || body.buckets.length === 25, `${body.buckets.length} hours`);
    t.same(body.totals, await countsBetween(database.db, new Date(body.since), new Date(body.until)));
  });

  const refused: Array<[string, string]> = [
    ['bucket=week', 'bucket'],
    ['since=yesterday', 'since'],
    ['until=2026-13-01T00:00:00Z', 'until'],
    ['since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ['since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ['since=2026-01-01T00:00:00Z&until=2026-01-03T00:00:00Z&bucket=minute', 'bucket'],
    ['since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&bucket=day', 'bucket'],
    ['limit=10', 'limit'],
  ];
  for (const [query, field] of refused) {
    t.test(`when asked ?${query}, then 400 names ${field}`, async (t) => {
      const response = await get(`/v1/decisions/stats?${query}`);
      t.equal(response.statusCode, 400, response.body);
      t.equal(response.json().error.code, 'invalid_request');
      t.equal(response.json().error.details.field, field);
    });
  }

  t.test('when a day of minutes is asked for, then its 1,440 buckets are within the bound', async (t) => {
    const response = await get(
      '/v1/decisions/stats?since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z&bucket=minute',
    );
    t.equal(response.statusCode, 200);
    t.equal(response.json().buckets.length, 1440);
  });

  t.test('when the token lacks the logs scope, then 403; without a token, 401', async (t) => {
    const other = await makeToken(database.db, ['decide', 'admin', 'policy']);
    t.equal((await get('/v1/decisions/stats', other)).statusCode, 403);
    t.equal((await app.inject({ method: 'GET', url: '/v1/decisions/stats' })).statusCode, 401);
  });
});
