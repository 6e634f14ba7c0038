// Writes and reads of the facts for the context API. Sets of rows travel as arrays through
// unnest(), so a bulk sync of 10,000 records is a handful of statements, not 10,000 round trips.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Account, AccountKind, Client, Database, Item, LinkTable, NewAccount, User } from './schema.ts';

/** A page of rows in id order, after the id of the last row of the page before. */
export interface PageRequest {
  limit: number;
  after: string | null;
}

type Column<R> = { name: keyof R & string; type: 'text' | 'boolean' };

/** `select * from unnest($1::text[], …) as t(col, …)`: the rows as one relation. */
function unnest<R>(rows: readonly R[], columns: ReadonlyArray<Column<R>>): RawBuilder<unknown> {
  const arrays = columns.map((c) => sql`${rows.map((r) => r[c.name] ?? null)}::${sql.raw(c.type)}[]`);
  return sql`select * from unnest(${sql.join(arrays)}) as t(${sql.join(columns.map((c) => sql.ref(c.name)))})`;
}

// Accounts

/** The account, locked against other context writers until the transaction ends (they queue per account). */
export const lockAccount = (db: Kysely<Database>, id: string): Promise<Account | undefined> =>
  db.selectFrom('accounts').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst();

export const findAccount = (db: Kysely<Database>, id: string): Promise<Account | undefined> =>
  db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();

/** Inserts the account unless a row with its id exists (then undefined: a concurrent PUT made it first). */
export const insertAccount = (db: Kysely<Database>, account: Pick<NewAccount, 'id' | 'kind' | 'name'>): Promise<Account | undefined> =>
  db.insertInto('accounts').values(account).onConflict((oc) => oc.column('id').doNothing()).returningAll().executeTakeFirst();

export const updateAccount = (db: Kysely<Database>, id: string, set: { kind: AccountKind; name: string }): Promise<Account> =>
  db.updateTable('accounts').set({ ...set, updated_at: sql<Date>`now()` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();

export async function deleteAccount(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('accounts').where('id', '=', id).execute();
}

export const pageAccounts = (db: Kysely<Database>, page: PageRequest): Promise<Account[]> =>
  db
    .selectFrom('accounts')
    .selectAll()
    .$if(page.after !== null, (q) => q.where('id', '>', page.after as string))
    .orderBy('id')
    .limit(page.limit)
    .execute();

/** Whether the account has users or clients (its kind is then locked). */
export async function accountHasMembers(db: Kysely<Database>, accountId: string): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.exists(eb.selectFrom('users').select('id').where('account_id', '=', accountId)).as('users'),
      eb.exists(eb.selectFrom('clients').select('id').where('account_id', '=', accountId)).as('clients'),
    ])
    .executeTakeFirstOrThrow();
  return Boolean(row.users) || Boolean(row.clients);
}

// Users, clients and items: ids are global primary keys, so a lookup by id finds a record of any account.

export type UserFields = Omit<User, 'created_at' | 'updated_at'>;
export type ClientFields = Omit<Client, 'created_at' | 'updated_at'>;
export type ItemFields = Omit<Item, 'created_at' | 'updated_at'>;

export const findUsers = (db: Kysely<Database>, ids: readonly string[]): Promise<User[]> =>
  ids.length === 0 ? Promise.resolve([]) : db.selectFrom('users').selectAll().where('id', '=', sql<string>`any(${ids}::text[])`).execute();

export const findClients = (db: Kysely<Database>, ids: readonly string[]): Promise<Client[]> =>
  ids.length === 0 ? Promise.resolve([]) : db.selectFrom('clients').selectAll().where('id', '=', sql<string>`any(${ids}::text[])`).execute();

export const findItems = (db: Kysely<Database>, ids: readonly string[]): Promise<Item[]> =>
  ids.length === 0 ? Promise.resolve([]) : db.selectFrom('items').selectAll().where('id', '=', sql<string>`any(${ids}::text[])`).execute();

/** The account's users (or clients, items) whose ids are not in keep: what a replace sync removes. */
export const accountUsersExcept = (db: Kysely<Database>, accountId: string, keep: readonly string[]): Promise<User[]> =>
  db.selectFrom('users').selectAll().where('account_id', '=', accountId).where(sql<boolean>`not (id = any(${keep}::text[]))`).orderBy('id').execute();

export const accountClientsExcept = (db: Kysely<Database>, accountId: string, keep: readonly string[]): Promise<Client[]> =>
  db.selectFrom('clients').selectAll().where('account_id', '=', accountId).where(sql<boolean>`not (id = any(${keep}::text[]))`).orderBy('id').execute();

export const accountItemsExcept = (db: Kysely<Database>, accountId: string, keep: readonly string[]): Promise<Item[]> =>
  db.selectFrom('items').selectAll().where('account_id', '=', accountId).where(sql<boolean>`not (id = any(${keep}::text[]))`).orderBy('id').execute();

/** Of the given ids, those of users (or clients) in the account. */
export async function idsInAccount(db: Kysely<Database>, table: 'users' | 'clients', accountId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom(table)
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', '=', sql<string>`any(${ids}::text[])`)
    .execute();
  return new Set(rows.map((r) => r.id));
}

export const pageUsers = (db: Kysely<Database>, accountId: string, page: PageRequest): Promise<User[]> =>
  db
    .selectFrom('users')
    .selectAll()
    .where('account_id', '=', accountId)
    .$if(page.after !== null, (q) => q.where('id', '>', page.after as string))
    .orderBy('id')
    .limit(page.limit)
    .execute();

export const pageClients = (db: Kysely<Database>, accountId: string, page: PageRequest): Promise<Client[]> =>
  db
    .selectFrom('clients')
    .selectAll()
    .where('account_id', '=', accountId)
    .$if(page.after !== null, (q) => q.where('id', '>', page.after as string))
    .orderBy('id')
    .limit(page.limit)
    .execute();

export const pageItems = (db: Kysely<Database>, accountId: string, page: PageRequest): Promise<Item[]> =>
  db
    .selectFrom('items')
    .selectAll()
    .where('account_id', '=', accountId)
    .$if(page.after !== null, (q) => q.where('id', '>', page.after as string))
    .orderBy('id')
    .limit(page.limit)
    .execute();

const USER_COLUMNS: ReadonlyArray<Column<UserFields>> = [
  { name: 'id', type: 'text' },
  { name: 'account_id', type: 'text' },
  { name: 'account_kind', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'role', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'client_access_mode', type: 'text' },
  { name: 'add_clients', type: 'boolean' },
  { name: 'practice_insights', type: 'boolean' },
  { name: 'manage_business', type: 'boolean' },
  { name: 'create_expense_claims', type: 'boolean' },
  { name: 'publishing', type: 'text' },
  { name: 'xpm_staff_id', type: 'text' },
];

/**
 * Inserts the new users and updates the existing ones in one statement; returns the rows written.
 * An id that turns out to belong to another account (a concurrent write) is left alone and missing
 * from the result, so the caller can tell.
 */
export async function upsertUsers(db: Kysely<Database>, users: readonly UserFields[]): Promise<User[]> {
  if (users.length === 0) return [];
  return db
    .insertInto('users')
    .columns(USER_COLUMNS.map((c) => c.name))
    .expression(unnest(users, USER_COLUMNS))
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          role: eb.ref('excluded.role'),
          status: eb.ref('excluded.status'),
          client_access_mode: eb.ref('excluded.client_access_mode'),
          add_clients: eb.ref('excluded.add_clients'),
          practice_insights: eb.ref('excluded.practice_insights'),
          manage_business: eb.ref('excluded.manage_business'),
          create_expense_claims: eb.ref('excluded.create_expense_claims'),
          publishing: eb.ref('excluded.publishing'),
          xpm_staff_id: eb.ref('excluded.xpm_staff_id'),
          updated_at: sql<Date>`now()`,
        }))
        .where((eb) => eb('users.account_id', '=', eb.ref('excluded.account_id'))),
    )
    .returningAll()
    .execute();
}

const CLIENT_COLUMNS: ReadonlyArray<Column<ClientFields>> = [
  { name: 'id', type: 'text' },
  { name: 'account_id', type: 'text' },
  { name: 'account_kind', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'ledger', type: 'text' },
];

/** As upsertUsers, for clients. */
export async function upsertClients(db: Kysely<Database>, clients: readonly ClientFields[]): Promise<Client[]> {
  if (clients.length === 0) return [];
  return db
    .insertInto('clients')
    .columns(CLIENT_COLUMNS.map((c) => c.name))
    .expression(unnest(clients, CLIENT_COLUMNS))
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), ledger: eb.ref('excluded.ledger'), updated_at: sql<Date>`now()` }))
        .where((eb) => eb('clients.account_id', '=', eb.ref('excluded.account_id'))),
    )
    .returningAll()
    .execute();
}

const ITEM_COLUMNS: ReadonlyArray<Column<ItemFields>> = [
  { name: 'id', type: 'text' },
  { name: 'account_id', type: 'text' },
  { name: 'client_id', type: 'text' },
  { name: 'owner_user_id', type: 'text' },
  { name: 'kind', type: 'text' },
];

/** As upsertUsers, for items. */
export async function upsertItems(db: Kysely<Database>, items: readonly ItemFields[]): Promise<Item[]> {
  if (items.length === 0) return [];
  return db
    .insertInto('items')
    .columns(ITEM_COLUMNS.map((c) => c.name))
    .expression(unnest(items, ITEM_COLUMNS))
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          client_id: eb.ref('excluded.client_id'),
          owner_user_id: eb.ref('excluded.owner_user_id'),
          kind: eb.ref('excluded.kind'),
          updated_at: sql<Date>`now()`,
        }))
        .where((eb) => eb('items.account_id', '=', eb.ref('excluded.account_id'))),
    )
    .returningAll()
    .execute();
}

/** Deletes rows by id. Users' pairs go by cascade and their items lose their owner; clients' pairs and items go by cascade. */
export async function deleteByIds(db: Kysely<Database>, table: 'users' | 'clients' | 'items', ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom(table).where('id', '=', sql<string>`any(${ids}::text[])`).execute();
}

/** The account's items owned by the given users, or of the given clients (what their deletion touches). */
export const itemsOwnedBy = (db: Kysely<Database>, userIds: readonly string[]): Promise<Item[]> =>
  userIds.length === 0
    ? Promise.resolve([])
    : db.selectFrom('items').selectAll().where('owner_user_id', '=', sql<string>`any(${userIds}::text[])`).orderBy('id').execute();

export const itemsOfClients = (db: Kysely<Database>, clientIds: readonly string[]): Promise<Item[]> =>
  clientIds.length === 0
    ? Promise.resolve([])
    : db.selectFrom('items').selectAll().where('client_id', '=', sql<string>`any(${clientIds}::text[])`).orderBy('id').execute();

export const accountItems = (db: Kysely<Database>, accountId: string): Promise<Item[]> =>
  db.selectFrom('items').selectAll().where('account_id', '=', accountId).orderBy('id').execute();

export const accountUsers = (db: Kysely<Database>, accountId: string): Promise<User[]> =>
  db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('id').execute();

export const accountClientRows = (db: Kysely<Database>, accountId: string): Promise<Client[]> =>
  db.selectFrom('clients').selectAll().where('account_id', '=', accountId).orderBy('id').execute();

// Allocations and ledger access: (user, client) pairs inside one account.

export interface Pair {
  user_id: string;
  client_id: string;
}

const PAIR_COLUMNS: ReadonlyArray<Column<Pair>> = [
  { name: 'user_id', type: 'text' },
  { name: 'client_id', type: 'text' },
];

/** The pairs of an account, or of some of its users, or of some clients; in (user, client) order. */
export function pairsWhere(
  db: Kysely<Database>,
  table: LinkTable,
  where: { accountId: string } | { userIds: readonly string[] } | { clientIds: readonly string[] },
): Promise<Pair[]> {
  let query = db.selectFrom(table).select(['user_id', 'client_id']);
  if ('accountId' in where) query = query.where('account_id', '=', where.accountId);
  else if ('userIds' in where) query = query.where('user_id', '=', sql<string>`any(${where.userIds}::text[])`);
  else query = query.where('client_id', '=', sql<string>`any(${where.clientIds}::text[])`);
  return query.orderBy('user_id').orderBy('client_id').execute();
}

export async function insertPairs(db: Kysely<Database>, table: LinkTable, accountId: string, pairs: readonly Pair[]): Promise<void> {
  if (pairs.length === 0) return;
  await db
    .insertInto(table)
    .columns(['account_id', 'user_id', 'client_id'])
    .expression(sql`select ${accountId}, t.user_id, t.client_id from (${unnest(pairs, PAIR_COLUMNS)}) as t`)
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function deletePairs(db: Kysely<Database>, table: LinkTable, accountId: string, pairs: readonly Pair[]): Promise<void> {
  if (pairs.length === 0) return;
  await db
    .deleteFrom(table)
    .where('account_id', '=', accountId)
    .where(sql<boolean>`(user_id, client_id) in (${unnest(pairs, PAIR_COLUMNS)})`)
    .execute();
}
