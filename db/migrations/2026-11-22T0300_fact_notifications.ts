// Every change to a fact or a token, however it is made (API or plain SQL), notifies the
// channel clearance_facts after commit, so each replica's cache drops what changed.
// Payload: "<table>:<id or user_id>:<account_id>"; "*" after a truncate.
import { sql, type Kysely } from 'kysely';

const TABLES = ['accounts', 'users', 'clients', 'allocations', 'ledger_access', 'items', 'api_tokens'];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function clearance_notify_fact() returns trigger language plpgsql as $$
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
          perform pg_notify('clearance_facts', tg_table_name || ':' ||
            coalesce(rec ->> 'user_id', rec ->> 'id', '') || ':' || coalesce(rec ->> 'account_id', rec ->> 'id', ''));
        end if;
      end loop;
      return null;
    end $$`.execute(db);
  for (const table of TABLES) {
    await sql`create trigger ${sql.id(`${table}_notify`)} after insert or update or delete on ${sql.table(table)}
              for each row execute function clearance_notify_fact()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_notify_truncate`)} after truncate on ${sql.table(table)}
              for each statement execute function clearance_notify_fact()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    await sql`drop trigger ${sql.id(`${table}_notify`)} on ${sql.table(table)}`.execute(db);
    await sql`drop trigger ${sql.id(`${table}_notify_truncate`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function clearance_notify_fact()`.execute(db);
}
