// Writes and reads of the facts for the records API (the facts API of SPEC §3). Sets of rows travel
// as arrays through unnest(), so a bulk sync of 10,000 records is a handful of statements, not
// 10,000 round trips. Users, clients and items share one set of generic functions.
import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { RecordTable, RowOf } from './facts.ts';
import type { Account, AccountKind, Database, LinkTable, NewAccount } from './schema.ts';

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

const anyOf = (ids: readonly string[]) => sql<string>`any(${ids}::text[])`;

// Accounts

/** The account, locked against other writers until the transaction ends (they queue per account). */
export const lockAccount = (db: Kysely<Database>, id: string): Promise<Account | undefined> =>
  db.selectFrom('accounts').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst();

/** Inserts the account unless a row with its id exists (then undefined: a concurrent PUT made it first). */
export const insertAccount = (
  db: Kysely<Database>,
  account: Pick<NewAccount, 'id' | 'kind' | 'name'>,
): Promise<Account | undefined> =>
  db
    .insertInto('accounts')
    .values(account)
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();

export const updateAccount = (
  db: Kysely<Database>,
  id: string,
  set: { kind: AccountKind; name: string },
): Promise<Account> =>
  db
    .updateTable('accounts')
    .set({ ...set, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

export async function deleteAccount(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('accounts').where('id', '=', id).execute();
}

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

// Users, clients and items: records of one account each, with global ids.

/** The tables of records that belong to an account. */
export type MemberTable = Exclude<RecordTable, 'accounts'>;
/** A row of an account's record. */
export type MemberRow<T extends MemberTable> = RowOf<T> & { account_id: string };
/** A record's stored fields, less the timestamps the database keeps. */
export type FieldsOf<T extends MemberTable> = Omit<Selectable<Database[T]>, 'created_at' | 'updated_at'> & {
  id: string;
  account_id: string;
};

/** The rows with these ids, of any account. */
export const findByIds = async <T extends MemberTable>(
  db: Kysely<Database>,
  table: T,
  ids: readonly string[],
): Promise<Array<MemberRow<T>>> =>
  ids.length === 0
    ? []
    : ((await db
        .selectFrom(table as MemberTable)
        .selectAll()
        .where('id', '=', anyOf(ids))
        .execute()) as Array<MemberRow<T>>);

/** A page of the accounts, or of one account's users (clients, items), in id order. */
export const pageRecords = async <T extends RecordTable>(
  db: Kysely<Database>,
  table: T,
  accountId: string | null,
  page: PageRequest,
): Promise<Array<RowOf<T>>> =>
  (await db
    .selectFrom(table as RecordTable)
    .selectAll()
    .$if(accountId !== null, (q) => q.where(sql.ref('account_id'), '=', accountId))
    .$if(page.after !== null, (q) => q.where('id', '>', page.after as string))
    .orderBy('id')
    .limit(page.limit)
    .execute()) as Array<RowOf<T>>;

/** The account's users (clients, items) in id order, but for those in keep: what a replace sync removes. */
export const rowsOfAccount = async <T extends MemberTable>(
  db: Kysely<Database>,
  table: T,
  accountId: string,
  keep: readonly string[] = [],
): Promise<Array<MemberRow<T>>> =>
  (await db
    .selectFrom(table as MemberTable)
    .selectAll()
    .where('account_id', '=', accountId)
    .$if(keep.length > 0, (q) => q.where(sql<boolean>`not (id = ${anyOf(keep)})`))
    .orderBy('id')
    .execute()) as Array<MemberRow<T>>;

/** Of the given ids, those of users (or clients) in the account. */
export async function idsInAccount(
  db: Kysely<Database>,
  table: 'users' | 'clients',
  accountId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom(table)
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', '=', anyOf(ids))
    .execute();
  return new Set(rows.map((r) => r.id));
}

const text = <R>(...names: Array<keyof R & string>): Array<Column<R>> => names.map((name) => ({ name, type: 'text' }));
const boolean = <R>(...names: Array<keyof R & string>): Array<Column<R>> =>
  names.map((name) => ({ name, type: 'boolean' }));

/** Each table's columns as an upsert writes them. */
const COLUMNS: { [T in MemberTable]: ReadonlyArray<Column<FieldsOf<T>>> } = {
  users: [
    ...text<FieldsOf<'users'>>('id', 'account_id', 'account_kind', 'name', 'role', 'status', 'client_access_mode'),
    ...boolean<FieldsOf<'users'>>('add_clients', 'practice_insights', 'manage_business', 'create_expense_claims'),
    ...text<FieldsOf<'users'>>('publishing', 'xpm_staff_id'),
  ],
  clients: text<FieldsOf<'clients'>>('id', 'account_id', 'account_kind', 'name', 'ledger'),
  items: text<FieldsOf<'items'>>('id', 'account_id', 'client_id', 'owner_user_id', 'kind'),
};

/** Columns an update leaves as they are: the id and the account it belongs to. */
const FIXED = new Set(['id', 'account_id', 'account_kind']);

/**
 * Inserts the new records and updates the existing ones in one statement; returns the rows written.
 * An id that turns out to belong to another account (a concurrent write) is left alone and missing
 * from the result, so the caller can tell.
 */
export async function upsertByIds<T extends MemberTable>(
  db: Kysely<Database>,
  table: T,
  rows: ReadonlyArray<FieldsOf<T>>,
): Promise<Array<MemberRow<T>>> {
  if (rows.length === 0) return [];
  const columns = COLUMNS[table] as ReadonlyArray<Column<FieldsOf<T>>>;
  const updated = columns.map((c) => c.name).filter((name) => !FIXED.has(name));
  const set = Object.fromEntries([
    ...updated.map((name) => [name, sql.ref(`excluded.${name}`)]),
    ['updated_at', sql<Date>`now()`],
  ]);
  return (await db
    .insertInto(table as MemberTable)
    .columns(columns.map((c) => c.name) as Array<keyof FieldsOf<MemberTable> & string>)
    .expression(unnest(rows, columns))
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(set)
        .where(sql.ref(`${table}.account_id`), '=', sql.ref('excluded.account_id')),
    )
    .returningAll()
    .execute()) as Array<MemberRow<T>>;
}

/**
 * Deletes rows by id. Users' pairs go by cascade and their items lose their owner; clients' pairs
 * and items go by cascade.
 */
export async function deleteByIds(db: Kysely<Database>, table: MemberTable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom(table).where('id', '=', anyOf(ids)).execute();
}

/** The items owned by the given users, or of the given clients (what their deletion touches). */
export const itemsWhere = (
  db: Kysely<Database>,
  column: 'owner_user_id' | 'client_id',
  ids: readonly string[],
): Promise<Array<RowOf<'items'>>> =>
  ids.length === 0
    ? Promise.resolve([])
    : db.selectFrom('items').selectAll().where(column, '=', anyOf(ids)).orderBy('id').execute();

// Allocations and ledger access: (user, client) pairs inside one account.

export interface Pair {
  user_id: string;
  client_id: string;
}

const PAIR_COLUMNS = text<Pair>('user_id', 'client_id');

/** The pairs of an account, or of some of its users, or of some clients; in (user, client) order. */
export function pairsWhere(
  db: Kysely<Database>,
  table: LinkTable,
  where: { accountId: string } | { userIds: readonly string[] } | { clientIds: readonly string[] },
): Promise<Pair[]> {
  let query = db.selectFrom(table).select(['user_id', 'client_id']);
  if ('accountId' in where) query = query.where('account_id', '=', where.accountId);
  else if ('userIds' in where) query = query.where('user_id', '=', anyOf(where.userIds));
  else query = query.where('client_id', '=', anyOf(where.clientIds));
  return query.orderBy('user_id').orderBy('client_id').execute();
}

type WritePairs = (db: Kysely<Database>, table: LinkTable, accountId: string, pairs: readonly Pair[]) => Promise<void>;

export const insertPairs: WritePairs = async (db, table, accountId, pairs) => {
  if (pairs.length === 0) return;
  await db
    .insertInto(table)
    .columns(['account_id', 'user_id', 'client_id'])
    .expression(sql`select ${accountId}, t.user_id, t.client_id from (${unnest(pairs, PAIR_COLUMNS)}) as t`)
    .onConflict((oc) => oc.doNothing())
    .execute();
};

export const deletePairs: WritePairs = async (db, table, accountId, pairs) => {
  if (pairs.length === 0) return;
  await db
    .deleteFrom(table)
    .where('account_id', '=', accountId)
    .where(sql<boolean>`(user_id, client_id) in (${unnest(pairs, PAIR_COLUMNS)})`)
    .execute();
};
