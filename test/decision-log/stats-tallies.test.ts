// The tallies the statistics are summed from stay equal to the log itself through every way it
// changes: inserts (a repeated one tallied once), answers refused after their entry was written,
// deletes, retention dropping whole partitions, a truncate; and entries logged before the tallies
// existed are tallied by their migration. The expected tallies are computed here from the rows.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import t from 'tap';
import {
  insertDecisionLogRows,
  maintainDecisionLogPartitions,
  markDecisionLogRowsRefused,
} from '../../service/data/decision-log.ts';
import { MIGRATIONS_DIR } from '../../service/data/migrate.ts';
import type { Database, NewDecisionLogRow } from '../../service/data/schema.ts';
import { emptyDatabase, migratedDatabase } from '../helpers/database.ts';
import { logRow } from '../helpers/decision-log.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A spread of entries over three days: every outcome, reason codes, missing times, an odd action. */
function entries(base: number, count: number): NewDecisionLogRow[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = i % 6;
    return logRow({
      decided_at: new Date(base + (i % 3) * DAY + ((i * 37) % 1440) * MINUTE + (i % 50) * 1000),
      action: kind === 5 ? null : ['client.view', 'client.edit', 'user.update'][i % 3],
      allow: kind === 0 || kind === 1 ? true : kind === 4 ? null : false,
      reason_codes: kind === 2 ? ['client_not_allocated'] : kind === 3 ? ['context_unavailable'] : [],
      error:
        kind === 3
          ? JSON.stringify({ code: 'context_unavailable', message: 'down' })
          : kind === 1
            ? JSON.stringify({ code: 'log_entry_unstorable', message: 'kept without input' })
            : null,
      // Times clear of bin edges (5% apart), some missing as for an entry refused before the policy.
      eval_us: kind === 3 ? null : 3.3 * 1.5 ** (i % 17),
      duration_us: 41.7 * 1.3 ** (i % 23),
    });
  });
}

const outcome = (allow: boolean | null, error: { code: string } | null) =>
  allow === null ? 'l' : allow ? 'a' : error !== null && error.code !== 'log_entry_unstorable' ? 'e' : 'd';
const bin = (us: number) => (us < 1 ? 0 : Math.min(400, 1 + Math.floor(Math.log(us) / Math.log(1.05))));
const minuteOf = (at: Date) => new Date(Math.floor(at.getTime() / MINUTE) * MINUTE).toISOString();
const hourOf = (at: Date) => new Date(Math.floor(at.getTime() / HOUR) * HOUR).toISOString();

type Tally = Record<string, number>;
const add = (tally: Tally, key: string) => {
  tally[key] = (tally[key] ?? 0) + 1;
};

/** The four tallies as they should be, from the log's rows. */
async function expected(db: Kysely<Database>) {
  const { rows } = await sql<{
    decided_at: Date;
    action: string | null;
    allow: boolean | null;
    error: { code: string } | null;
    reason_codes: string[];
    eval_us: number | null;
    duration_us: number | null;
  }>`select decided_at, action, allow, error, reason_codes, eval_us, duration_us from decision_log`.execute(db);
  const counts: Tally = {};
  const reasons: Tally = {};
  const minuteTimes: Tally = {};
  const hourTimes: Tally = {};
  for (const row of rows) {
    const at = new Date(row.decided_at);
    add(counts, `${minuteOf(at)} ${row.action ?? ''} ${outcome(row.allow, row.error)}`);
    if (row.allow === false) for (const code of row.reason_codes) add(reasons, `${minuteOf(at)} ${code}`);
    if (row.allow === null) continue;
    for (const [kind, us] of [
      ['e', row.eval_us],
      ['d', row.duration_us],
    ] as const) {
      if (us === null) continue;
      add(minuteTimes, `${minuteOf(at)} ${kind} ${bin(us)}`);
      add(hourTimes, `${hourOf(at)} ${kind} ${bin(us)}`);
    }
  }
  return { counts, reasons, minuteTimes, hourTimes };
}

/** The four tallies as the database keeps them (zeros left by a subtraction left out). */
async function kept(db: Kysely<Database>) {
  const read = async (query: ReturnType<typeof sql<{ key: string; n: string }>>) =>
    Object.fromEntries(
      (await query.execute(db)).rows.filter((r) => Number(r.n) !== 0).map((r) => [r.key, Number(r.n)]),
    );
  const iso = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"')`);
  return {
    counts: await read(
      sql`select ${iso('minute')} || ' ' || action || ' ' || outcome::text as key, n from decision_log_minute_counts`,
    ),
    reasons: await read(sql`select ${iso('minute')} || ' ' || code as key, n from decision_log_minute_reasons`),
    minuteTimes: await read(
      sql`select ${iso('minute')} || ' ' || kind::text || ' ' || bin as key, n from decision_log_minute_times`,
    ),
    hourTimes: await read(
      sql`select ${iso('hour')} || ' ' || kind::text || ' ' || bin as key, n from decision_log_hour_times`,
    ),
  };
}

const base = Date.UTC(2026, 10, 1);

t.test('given a log written in batches', async (t) => {
  const database = await migratedDatabase(t);
  const db = database.db;
  await maintainDecisionLogPartitions(db, { now: new Date(base + DAY), daysAhead: 3, retentionDays: 30 });
  const rows = entries(base, 900);
  await insertDecisionLogRows(db, rows.slice(0, 400));
  // A session in a zone half an hour off UTC tallies the same UTC minutes and hours.
  await db.connection().execute(async (connection) => {
    await sql`set time zone 'Asia/Kolkata'`.execute(connection);
    await insertDecisionLogRows(connection, rows.slice(400));
    await sql`reset time zone`.execute(connection);
  });

  t.test('when written, then the tallies equal the rows', async (t) => {
    const tallies = await kept(db);
    t.same(tallies, await expected(db));
    t.ok(
      Object.keys(tallies.reasons).length > 0 && Object.keys(tallies.hourTimes).length > 0,
      'every tally holds rows',
    );
  });

  t.test(
    'when several writers add to the same minutes at once, then none waits forever and all are counted',
    async (t) => {
      const more = entries(base, 2000);
      await Promise.all(
        [0, 1, 2, 3].map((w) =>
          insertDecisionLogRows(
            db,
            more.filter((_, i) => i % 4 === w),
          ),
        ),
      );
      t.same(await kept(db), await expected(db));
      await sql`delete from decision_log where decision_id = any(${more.map((row) => row.decision_id)}::uuid[])`.execute(
        db,
      );
    },
  );

  t.test('when entries are written again (a spill replayed), then nothing is counted twice', async (t) => {
    await insertDecisionLogRows(db, rows.slice(100, 500));
    t.same(await kept(db), await expected(db));
  });

  t.test('when answers are refused after their entries were written, then they move to errors', async (t) => {
    await markDecisionLogRowsRefused(db, rows.slice(0, 60) as Array<{ decision_id: string; decided_at: Date }>, {
      code: 'decision_log_unavailable',
      message: 'late',
    });
    const tallies = await kept(db);
    t.same(tallies, await expected(db));
    t.ok(
      Object.keys(tallies.reasons).some((key) => key.endsWith('decision_log_unavailable')),
      'the refusal code is tallied',
    );
  });

  t.test('when entries are deleted, then they leave the tallies', async (t) => {
    await sql`delete from decision_log where action = 'client.edit'`.execute(db);
    t.same(await kept(db), await expected(db));
  });

  t.test('when retention drops the oldest day, then its tallies go with it', async (t) => {
    const changes = await maintainDecisionLogPartitions(db, {
      now: new Date(base + 31 * DAY + HOUR),
      daysAhead: 0,
      retentionDays: 30,
    });
    t.ok(changes.dropped.length > 0, `partitions dropped: ${changes.dropped.join(', ')}`);
    t.same(await kept(db), await expected(db));
  });

  t.test('when the log is truncated, then the tallies are empty', async (t) => {
    await sql`truncate decision_log`.execute(db);
    t.same(await kept(db), { counts: {}, reasons: {}, minuteTimes: {}, hourTimes: {} });
  });
});

t.test('when entries were logged before the tallies existed, then their migration tallies them', async (t) => {
  const database = await emptyDatabase(t);
  const migrator = new Migrator({
    db: database.db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
  });
  const before = await migrator.migrateTo('2026-12-03T0300_decision_log_stats_index');
  t.equal(before.error, undefined, 'migrated to the one before');
  await insertDecisionLogRows(database.db, entries(base, 300));
  const after = await migrator.migrateToLatest();
  t.equal(after.error, undefined, 'migrated to the latest');
  const tallies = await kept(database.db);
  t.equal(
    Object.values(tallies.counts).reduce((sum, n) => sum + n, 0),
    300,
    'every entry counted once',
  );
  t.same(tallies, await expected(database.db));
});
