// The audit trail of the context API: one row per changed record (account, user, client, item,
// allocation or ledger-access pair, API token), with the token that made the change and the
// record before and after. Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    // Milliseconds, so the (at, id) keyset of a page cursor round-trips through a JS Date exactly.
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    // Shared by every row one request wrote (e.g. all pairs of one bulk sync).
    .addColumn('request_id', 'uuid', (c) => c.notNull())
    .addColumn('token_id', 'text', (c) => c.notNull())
    // No foreign keys: the trail outlives the records it tells about.
    .addColumn('account_id', 'text')
    .addColumn('record_type', 'text', (c) =>
      c.notNull().check(sql`record_type in ('account', 'user', 'client', 'item', 'allocation', 'ledger_access', 'token')`),
    )
    // For a pair, "<user_id>/<client_id>" ("/" cannot occur in an id).
    .addColumn('record_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('client_id', 'text')
    .addColumn('change', 'text', (c) => c.notNull().check(sql`change in ('create', 'update', 'delete')`))
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .execute();
  // Newest first, overall and under each filter an operator starts from.
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at desc', 'id desc']).execute();
  for (const column of ['account_id', 'user_id', 'client_id', 'record_id', 'token_id']) {
    await db.schema.createIndex(`audit_log_${column}_idx`).on('audit_log').columns([column, 'at desc', 'id desc']).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
}
