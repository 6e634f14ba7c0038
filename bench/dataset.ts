// The benchmark data set, at the scale of a real deployment: 200 practices and 50 businesses,
// 20,000 users over every role and client access mode, 99,948 clients over every ledger (one
// practice with 10,000 of them for the list query), allocations and ledger access in proportion,
// 200,000 items. Generated in SQL from deterministic hashes, so every run has the same facts.
// Reused when the database already holds this version of it.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../service/data/schema.ts';
import { migrateToLatest } from '../service/data/migrate.ts';

export const DATASET_VERSION = 'v1';
/** The practice with 10,000 clients, and its user whose list query the benchmark times. */
export const BIG_PRACTICE = 'p0001';
export const LIST_SUBJECT = 'p0001-u011';

const NOTIFY_TABLES = ['accounts', 'users', 'clients', 'allocations', 'ledger_access', 'items'];

export interface DatasetSummary {
  version: string;
  generated: boolean;
  seconds: number;
  rows: Record<string, number>;
}

async function counts(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of NOTIFY_TABLES) {
    const { rows: r } = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
    rows[table] = Number(r[0]?.n ?? 0);
  }
  return rows;
}

export async function ensureDataset(db: Kysely<Database>): Promise<DatasetSummary> {
  const started = performance.now();
  await migrateToLatest(db);
  await sql`create table if not exists bench_dataset (version text not null)`.execute(db);
  const { rows } = await sql<{ version: string }>`select version from bench_dataset`.execute(db);
  if (rows[0]?.version === DATASET_VERSION) {
    return {
      version: DATASET_VERSION,
      generated: false,
      seconds: (performance.now() - started) / 1000,
      rows: await counts(db),
    };
  }
  await db.transaction().execute(async (trx) => {
    // One notification per generated row would only fill the queue: no service is running.
    for (const table of NOTIFY_TABLES)
      await sql`alter table ${sql.table(table)} disable trigger ${sql.id(`${table}_notify`)}`.execute(trx);
    for (const table of ['items', 'ledger_access', 'allocations', 'clients', 'users', 'accounts', 'bench_dataset']) {
      await sql`delete from ${sql.table(table)}`.execute(trx);
    }
    await generate(trx);
    for (const table of NOTIFY_TABLES)
      await sql`alter table ${sql.table(table)} enable trigger ${sql.id(`${table}_notify`)}`.execute(trx);
    await sql`insert into bench_dataset (version) values (${DATASET_VERSION})`.execute(trx);
  });
  await sql`analyze`.execute(db);
  return {
    version: DATASET_VERSION,
    generated: true,
    seconds: (performance.now() - started) / 1000,
    rows: await counts(db),
  };
}

async function generate(db: Kysely<Database>): Promise<void> {
  // A stable pseudo-random whole number (0 to 2^28 - 1) from a text.
  await sql`create or replace function pg_temp.h(t text) returns int language sql immutable as
    $$ select ('x' || substr(md5(t), 1, 7))::bit(28)::int $$`.execute(db);

  await sql`
    insert into accounts (id, name, kind)
    select format('p%s', lpad(i::text, 4, '0')), format('Practice %s', i), 'practice' from generate_series(1, 200) i
    union all
    select format('b%s', lpad(i::text, 3, '0')), format('Business %s', i), 'business' from generate_series(1, 50) i`.execute(
    db,
  );

  // Half the clients keep their books in Xero; the rest over MYOB, QuickBooks and none.
  await sql`
    insert into clients (id, account_id, account_kind, name, ledger)
    select format('%s-c%s', a.id, lpad(n::text, 5, '0')), a.id, 'practice', format('Client %s of %s', n, a.id),
           (array['xero','xero','xero','xero','xero','myob','myob','quickbooks','quickbooks','none'])[1 + pg_temp.h(a.id || '-c' || n) % 10]
    from accounts a cross join lateral generate_series(1, case when a.id = ${BIG_PRACTICE} then 10000 else 452 end) n
    where a.kind = 'practice'`.execute(db);

  // 95 users per practice: a practice admin, 9 client admins, 80 standard users, 5 expense approvers;
  // modes over all four and the role default; about 2% suspended.
  await sql`
    insert into users (id, account_id, account_kind, name, role, status, client_access_mode,
                       add_clients, practice_insights, manage_business, create_expense_claims, publishing, xpm_staff_id)
    select format('%s-u%s', a.id, lpad(n::text, 3, '0')), a.id, 'practice', format('User %s of %s', n, a.id),
           case when n = 1 then 'practice_admin' when n <= 10 then 'client_admin' when n <= 90 then 'standard' else 'expense_approver' end,
           case when r.h % 50 = 0 and n > 1 then 'suspended' else 'active' end,
           case when n between 2 and 10 then (array[null, 'all', 'selected', 'ledger_all'])[1 + r.h % 4]
                when n between 11 and 90 then (array[null, 'all', 'selected', 'selected', 'ledger_all', 'ledger_selected', 'ledger_selected'])[1 + r.h % 7]
           end,
           r.h % 5 = 0, r.h % 7 = 0, r.h % 6 = 0, r.h % 2 = 0, (array['all', 'expense_claims_only', 'none'])[1 + r.h % 3],
           case when r.h % 3 <> 0 then format('xpm-%s-%s', a.id, n) end
    from accounts a cross join lateral generate_series(1, 95) n cross join lateral (select pg_temp.h(a.id || '-u' || n) as h) r
    where a.kind = 'practice'`.execute(db);

  // 20 users per business: a business admin, 2 user admins, 15 standard users, 2 expense approvers.
  await sql`
    insert into users (id, account_id, account_kind, name, role, status, client_access_mode,
                       add_clients, practice_insights, manage_business, create_expense_claims, publishing, xpm_staff_id)
    select format('%s-u%s', a.id, lpad(n::text, 3, '0')), a.id, 'business', format('User %s of %s', n, a.id),
           case when n = 1 then 'business_admin' when n <= 3 then 'user_admin' when n <= 18 then 'standard' else 'expense_approver' end,
           case when r.h % 50 = 0 and n > 1 then 'suspended' else 'active' end,
           null, false, false, r.h % 6 = 0, r.h % 2 = 0, (array['all', 'expense_claims_only', 'none'])[1 + r.h % 3], null
    from accounts a cross join lateral generate_series(1, 20) n cross join lateral (select pg_temp.h(a.id || '-u' || n) as h) r
    where a.kind = 'business'`.execute(db);

  // The list query's subject: restricted by allocations and by Xero access, over 10,000 clients.
  await sql`update users set role = 'standard', status = 'active', client_access_mode = 'ledger_selected' where id = ${LIST_SUBJECT}`.execute(
    db,
  );

  // Users restricted to selected clients get 40 consecutive clients of their practice (the list
  // subject 3,000); users restricted by Xero have access to the Xero clients among 60 (the list
  // subject 6,000).
  await sql`
    insert into allocations (account_id, user_id, client_id)
    select u.account_id, u.id, format('%s-c%s', u.account_id, lpad((1 + (pg_temp.h(u.id) + k) % c.cnt)::text, 5, '0'))
    from users u
    join (select account_id, count(*) as cnt from clients group by account_id) c on c.account_id = u.account_id
    cross join lateral generate_series(0, case when u.id = ${LIST_SUBJECT} then 2999 else 39 end) k
    where u.role in ('client_admin', 'standard') and u.account_kind = 'practice'
      and coalesce(u.client_access_mode, case when u.role = 'standard' then 'selected' else 'all' end) in ('selected', 'ledger_selected')`.execute(
    db,
  );
  await sql`
    insert into ledger_access (account_id, user_id, client_id)
    select u.account_id, u.id, cl.id
    from users u
    join (select account_id, count(*) as cnt from clients group by account_id) c on c.account_id = u.account_id
    cross join lateral generate_series(0, case when u.id = ${LIST_SUBJECT} then 5999 else 59 end) k
    join clients cl on cl.id = format('%s-c%s', u.account_id, lpad((1 + (pg_temp.h(u.id) / 7 + k) % c.cnt)::text, 5, '0')) and cl.ledger = 'xero'
    where u.role in ('client_admin', 'standard') and u.account_kind = 'practice'
      and u.client_access_mode in ('ledger_all', 'ledger_selected')`.execute(db);

  // 800 items per account: in a practice 60% belong to a client, the rest to its own books.
  await sql`
    insert into items (id, account_id, client_id, owner_user_id, kind)
    select format('%s-i%s', a.id, lpad(n::text, 4, '0')), a.id,
           case when a.kind = 'practice' and r.h % 10 < 6 then format('%s-c%s', a.id, lpad((1 + r.h % c.cnt)::text, 5, '0')) end,
           format('%s-u%s', a.id, lpad((1 + (r.h / 10) % (case when a.kind = 'practice' then 95 else 20 end))::text, 3, '0')),
           (array['expense_claim', 'receipt', 'invoice'])[1 + (r.h / 100) % 3]
    from accounts a
    left join (select account_id, count(*) as cnt from clients group by account_id) c on c.account_id = a.id
    cross join generate_series(1, 800) n cross join lateral (select pg_temp.h(a.id || '-i' || n) as h) r`.execute(db);
}
