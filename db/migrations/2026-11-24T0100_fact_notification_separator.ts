// The change feed's payload becomes "<table>/<id or user_id>/<account_id>": ids may contain ':'
// (^[A-Za-z0-9_.:-]{1,128}$), so the ':' separator of 2026-11-22T0300 cut "org:42" into "org"
// and the change dropped the wrong cache entry. '/' cannot occur in an id (pair record ids in the
// audit trail use it for the same reason). "*" after a truncate is unchanged. A process of the
// previous version reads a payload of this format as an unknown table and drops its whole cache:
// slower during a rolling deploy, never stale.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

const notifyFunction = (separator: string) => sql`
  create or replace function clearance_notify_fact() returns trigger language plpgsql as $$
  declare
    rec jsonb;
  begin
    if tg_op = 'TRUNCATE' then
      perform pg_notify('clearance_facts', '*');
      return null;
    end if;
    foreach rec in array array[case when tg_op <> 'INSERT' then to_jsonb(old) end,
                               case when tg_op <> 'DELETE' then to_jsonb(new) end] loop
      if rec is not null then
        perform pg_notify('clearance_facts', tg_table_name || ${sql.lit(separator)} ||
          coalesce(rec ->> 'user_id', rec ->> 'id', '') || ${sql.lit(separator)} || coalesce(rec ->> 'account_id', rec ->> 'id', ''));
      end if;
    end loop;
    return null;
  end $$`;

export async function up(db: Kysely<any>): Promise<void> {
  await notifyFunction('/').execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await notifyFunction(':').execute(db);
}
