// Each change on the feed names its transaction: "<table>/<id or user_id>/<account_id>/<xid>",
// and "*/<xid>" after a truncate, the xid being pg_current_xact_id() (xid8, decimal). The API's
// write transactions end with a notification of their own, "commit/<xid>/<xmin>" (sent by the
// service, not by these triggers), so a process can tell that it has applied every change of a
// transaction a consistency token names. A process of the previous version reads the first three
// parts as before and ignores the fourth; it reads "commit/…" as an unknown table and drops its
// whole cache: slower during a rolling deploy, never stale.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

// As 2026-11-24T0100_fact_notification_separator.ts left it, plus (withTransaction) the transaction.
const notifyFunction = (withTransaction: boolean) => {
  const transaction = withTransaction ? sql`|| '/' || pg_current_xact_id()::text` : sql``;
  return sql`
  create or replace function clearance_notify_fact() returns trigger language plpgsql as $$
  declare
    rec jsonb;
  begin
    if tg_op = 'TRUNCATE' then
      perform pg_notify('clearance_facts', '*' ${transaction});
      return null;
    end if;
    foreach rec in array array[case when tg_op <> 'INSERT' then to_jsonb(old) end,
                               case when tg_op <> 'DELETE' then to_jsonb(new) end] loop
      if rec is not null then
        perform pg_notify('clearance_facts', tg_table_name || '/' ||
          coalesce(rec ->> 'user_id', rec ->> 'id', '') || '/' || coalesce(rec ->> 'account_id', rec ->> 'id', '') ${transaction});
      end if;
    end loop;
    return null;
  end $$`;
};

export async function up(db: Kysely<any>): Promise<void> {
  await notifyFunction(true).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await notifyFunction(false).execute(db);
}
