// The decision log's statistics (GET /v1/decisions/stats) from tallies kept as entries are written,
// so a week of two million entries is summed from some hundred thousand rows instead of read whole:
// - decision_log_minute_counts: entries per minute, action and outcome (a allowed, d denied by the
//   policy, e refused with an error, l a list or reverse query: allow null);
// - decision_log_minute_reasons: the reason codes of the entries refused (allow false), per minute;
// - decision_log_minute_times and decision_log_hour_times: histograms of eval_us and duration_us
//   (kind e and d) of the entries with allow set, in bins 5% wide (bin 0 below 1 µs, bin b from
//   1.05^(b-1) to 1.05^b µs), per minute for a window's ragged ends and per hour for its middle.
// Statement triggers on decision_log keep them: every insert (ON CONFLICT DO NOTHING tallies only
// the rows it inserted), update (an answer refused after its entry was written) and delete adds
// what it changed, in its own transaction; a truncate empties them. Retention, which drops whole
// partitions (no trigger fires), deletes the tallies of the days it drops. Existing entries are
// tallied here. It replaces the covering index the statistics read before.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

/**
 * The statement that adds the rows of source (decision_log's columns and s, the sign) to the four
 * tallies: the outcome and histogram bin are worked out once, then each tally is upserted.
 */
const tally = (source: string) =>
  sql.raw(`
    with c as materialized (
      select s, date_trunc('minute', decided_at, 'UTC') as minute, coalesce(action, '') as action, allow, reason_codes,
             eval_us, duration_us,
             case when allow then 'a'
                  when allow = false and error is not null and error->>'code' is distinct from 'log_entry_unstorable' then 'e'
                  when allow = false then 'd' else 'l' end::"char" as outcome
      from (${source}) as changed),
    times as materialized (
      select s, minute, kind, case when us < 1 then 0 else least(400, 1 + floor(ln(us) / ln(1.05)))::smallint end as bin
      from c cross join lateral (values ('e'::"char", c.eval_us), ('d'::"char", c.duration_us)) as v(kind, us)
      where c.allow is not null and us is not null),
    counts as (
      insert into decision_log_minute_counts as t (minute, action, outcome, n)
      select minute, action, outcome, sum(s) from c group by 1, 2, 3 order by 1, 2, 3
      on conflict (minute, action, outcome) do update set n = t.n + excluded.n),
    reasons as (
      insert into decision_log_minute_reasons as t (minute, code, n)
      select minute, code, sum(s) from c cross join lateral unnest(c.reason_codes) as code
      where c.allow = false group by 1, 2 order by 1, 2
      on conflict (minute, code) do update set n = t.n + excluded.n),
    minute_times as (
      insert into decision_log_minute_times as t (minute, kind, bin, n)
      select minute, kind, bin, sum(s) from times group by 1, 2, 3 order by 1, 2, 3
      on conflict (minute, kind, bin) do update set n = t.n + excluded.n)
    insert into decision_log_hour_times as t (hour, kind, bin, n)
    select date_trunc('hour', minute, 'UTC'), kind, bin, sum(s) from times group by 1, 2, 3 order by 1, 2, 3
    on conflict (hour, kind, bin) do update set n = t.n + excluded.n;`);

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table decision_log_minute_counts (
      minute timestamptz not null, action text not null, outcome "char" not null, n bigint not null,
      primary key (minute, action, outcome))`.execute(db);
  await sql`create table decision_log_minute_reasons (
      minute timestamptz not null, code text not null, n bigint not null,
      primary key (minute, code))`.execute(db);
  await sql`create table decision_log_minute_times (
      minute timestamptz not null, kind "char" not null, bin smallint not null, n bigint not null,
      primary key (minute, kind, bin))`.execute(db);
  await sql`create table decision_log_hour_times (
      hour timestamptz not null, kind "char" not null, bin smallint not null, n bigint not null,
      primary key (hour, kind, bin))`.execute(db);

  // One statement per trigger, over the rows it changed, each counted with its sign (+1 added, -1
  // gone); PL/pgSQL keeps its plan between calls. Keys are upserted in order, so two writers adding
  // to the same minute wait for each other rather than deadlock.
  await sql`create function decision_log_tally_inserted() returns trigger language plpgsql as $$
    begin ${tally('select 1 as s, * from added')} return null; end $$`.execute(db);
  await sql`create function decision_log_tally_updated() returns trigger language plpgsql as $$
    begin ${tally('select -1 as s, * from gone union all select 1 as s, * from added')} return null; end $$`.execute(db);
  await sql`create function decision_log_tally_deleted() returns trigger language plpgsql as $$
    begin ${tally('select -1 as s, * from gone')} return null; end $$`.execute(db);
  await sql`create function decision_log_tally_truncated() returns trigger language plpgsql as $$
    begin
      truncate decision_log_minute_counts, decision_log_minute_reasons, decision_log_minute_times, decision_log_hour_times;
      return null;
    end $$`.execute(db);
  await sql`create trigger decision_log_tally_inserted after insert on decision_log
            referencing new table as added for each statement execute function decision_log_tally_inserted()`.execute(db);
  await sql`create trigger decision_log_tally_updated after update on decision_log
            referencing old table as gone new table as added for each statement execute function decision_log_tally_updated()`.execute(
    db,
  );
  await sql`create trigger decision_log_tally_deleted after delete on decision_log
            referencing old table as gone for each statement execute function decision_log_tally_deleted()`.execute(db);
  await sql`create trigger decision_log_tally_truncated after truncate on decision_log
            for each statement execute function decision_log_tally_truncated()`.execute(db);

  // What is already logged, in one pass (the triggers only see what comes after them).
  await sql`do $$ begin ${tally('select 1 as s, * from decision_log')} end $$`.execute(db);
  await sql`drop index if exists decision_log_stats_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index decision_log_stats_idx on decision_log (decided_at)
            include (allow, action, eval_us, duration_us, reason_codes, error)`.execute(db);
  for (const trigger of ['inserted', 'updated', 'deleted', 'truncated']) {
    await sql`drop trigger ${sql.id(`decision_log_tally_${trigger}`)} on decision_log`.execute(db);
    await sql`drop function ${sql.id(`decision_log_tally_${trigger}`)}()`.execute(db);
  }
  await sql`drop table decision_log_minute_counts, decision_log_minute_reasons, decision_log_minute_times, decision_log_hour_times`.execute(
    db,
  );
}
