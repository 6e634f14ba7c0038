// The facts of SPEC §1: accounts, users, clients, allocations, ledger access and items.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

const ID_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';

export async function up(db: Kysely<any>): Promise<void> {
  // The calling application's own ids; one domain so every table checks them the same way.
  await sql`create domain ext_id as text check (value ~ ${sql.lit(ID_PATTERN)})`.execute(db);

  await db.schema
    .createTable('accounts')
    .addColumn('id', sql`ext_id`, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 200`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('practice', 'business')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Target of the (account_id, account_kind) foreign keys below: a user's role and a client's
    // existence are checked against the account's kind, and the kind cannot change under them.
    .addUniqueConstraint('accounts_id_kind_key', ['id', 'kind'])
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', sql`ext_id`, (c) => c.primaryKey())
    .addColumn('account_id', sql`ext_id`, (c) => c.notNull())
    .addColumn('account_kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 200`))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'suspended')`))
    .addColumn('client_access_mode', 'text', (c) =>
      c.check(sql`client_access_mode in ('all', 'selected', 'ledger_all', 'ledger_selected')`),
    )
    .addColumn('add_clients', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('practice_insights', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('manage_business', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('create_expense_claims', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('publishing', 'text', (c) =>
      c.notNull().defaultTo('none').check(sql`publishing in ('all', 'expense_claims_only', 'none')`),
    )
    .addColumn('xpm_staff_id', 'text', (c) => c.check(sql`length(xpm_staff_id) between 1 and 128`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('users_account_id_id_key', ['account_id', 'id'])
    .addForeignKeyConstraint('users_account_fkey', ['account_id', 'account_kind'], 'accounts', ['id', 'kind'], (fk) =>
      fk.onDelete('cascade').onUpdate('restrict'),
    )
    .addCheckConstraint(
      'users_role_matches_account_kind',
      sql`(account_kind = 'practice' and role in ('practice_admin', 'client_admin', 'standard', 'expense_approver'))
       or (account_kind = 'business' and role in ('business_admin', 'user_admin', 'standard', 'expense_approver'))`,
    )
    .addCheckConstraint(
      'users_client_access_mode_practice_only',
      sql`account_kind = 'practice' or client_access_mode is null`,
    )
    .execute();

  await db.schema
    .createTable('clients')
    .addColumn('id', sql`ext_id`, (c) => c.primaryKey())
    .addColumn('account_id', sql`ext_id`, (c) => c.notNull())
    .addColumn('account_kind', 'text', (c) => c.notNull().check(sql`account_kind = 'practice'`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 200`))
    .addColumn('ledger', 'text', (c) =>
      c.notNull().defaultTo('none').check(sql`ledger in ('xero', 'myob', 'quickbooks', 'none')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('clients_account_id_id_key', ['account_id', 'id'])
    .addForeignKeyConstraint('clients_account_fkey', ['account_id', 'account_kind'], 'accounts', ['id', 'kind'], (fk) =>
      fk.onDelete('cascade').onUpdate('restrict'),
    )
    .execute();
  await db.schema.createIndex('clients_account_id_idx').on('clients').columns(['account_id', 'id']).execute();

  // Allocations (chosen by an admin) and ledger access (synced from the ledger) share a shape:
  // a (user, client) pair inside one account, gone when either side goes.
  for (const table of ['allocations', 'ledger_access']) {
    await db.schema
      .createTable(table)
      .addColumn('account_id', sql`ext_id`, (c) => c.notNull())
      .addColumn('user_id', sql`ext_id`, (c) => c.notNull())
      .addColumn('client_id', sql`ext_id`, (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint(`${table}_pkey`, ['user_id', 'client_id'])
      .addForeignKeyConstraint(`${table}_user_fkey`, ['account_id', 'user_id'], 'users', ['account_id', 'id'], (fk) =>
        fk.onDelete('cascade').onUpdate('cascade'),
      )
      .addForeignKeyConstraint(`${table}_client_fkey`, ['account_id', 'client_id'], 'clients', ['account_id', 'id'], (fk) =>
        fk.onDelete('cascade').onUpdate('cascade'),
      )
      .execute();
    await db.schema.createIndex(`${table}_client_id_idx`).on(table).column('client_id').execute();
  }

  await db.schema
    .createTable('items')
    .addColumn('id', sql`ext_id`, (c) => c.primaryKey())
    .addColumn('account_id', sql`ext_id`, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('client_id', sql`ext_id`)
    .addColumn('owner_user_id', sql`ext_id`)
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('expense_claim', 'receipt', 'invoice')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A client's documents go with the client: keeping them with client_id null would move them
    // into the practice's own books, where other people may see them.
    .addForeignKeyConstraint('items_client_fkey', ['account_id', 'client_id'], 'clients', ['account_id', 'id'], (fk) =>
      fk.onDelete('cascade').onUpdate('cascade'),
    )
    .execute();
  // A removed user's documents stay, owned by nobody (so no "own item" rule grants them).
  await sql`alter table items add constraint items_owner_fkey foreign key (account_id, owner_user_id)
            references users (account_id, id) on delete set null (owner_user_id)`.execute(db);
  await db.schema.createIndex('items_client_id_idx').on('items').column('client_id').execute();
  await db.schema.createIndex('items_owner_user_id_idx').on('items').column('owner_user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['items', 'ledger_access', 'allocations', 'clients', 'users', 'accounts']) {
    await db.schema.dropTable(table).execute();
  }
  await sql`drop domain ext_id`.execute(db);
}
