// Reads of the facts a decision needs (one small indexed query each), and the commit notification
// that ends each write transaction.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Client, Database } from './schema.ts';

/** The tables of records with a global id (ids are primary keys: a lookup finds a row of any account). */
export type RecordTable = 'accounts' | 'users' | 'clients' | 'items';
export type RowOf<T extends RecordTable> = Selectable<Database[T]> & { id: string };

/**
 * A row as decisions read it: every column but when it was made and last changed, which no
 * decision reads (in the fact cache they took a third of a user's bytes and half of an item's).
 */
export type FactRow<T extends RecordTable> = Omit<RowOf<T>, 'created_at' | 'updated_at'>;
export type AccountFact = FactRow<'accounts'>;
export type UserFact = FactRow<'users'>;
export type ClientFact = FactRow<'clients'>;
export type ItemFact = FactRow<'items'>;

/** The columns of a FactRow, each table's in full (checked below). */
const FACT_COLUMNS = {
  accounts: ['id', 'name', 'kind'],
  users: [
    'id',
    'account_id',
    'account_kind',
    'name',
    'role',
    'status',
    'client_access_mode',
    'add_clients',
    'practice_insights',
    'manage_business',
    'create_expense_claims',
    'publishing',
    'xpm_staff_id',
  ],
  clients: ['id', 'account_id', 'account_kind', 'name', 'ledger'],
  items: ['id', 'account_id', 'client_id', 'owner_user_id', 'kind'],
} as const satisfies { [T in RecordTable]: ReadonlyArray<keyof FactRow<T>> };

// A column added to one of the tables fails to compile until it is read here (or left out above).
type Unread = { [T in RecordTable]: Exclude<keyof FactRow<T>, (typeof FACT_COLUMNS)[T][number]> }[RecordTable];
const everyColumnRead: [Unread] extends [never] ? true : never = true;
void everyColumnRead;

/**
 * One row by id, of the columns given (every column for null). Also asked with a caller's
 * resource.attributes.client_id, which may hold a NUL: PostgreSQL refuses that in a parameter (the
 * decision would fail as if the database were down), and no stored id holds one, so such an id is
 * simply not found.
 */
async function rowById(
  db: Kysely<Database>,
  table: RecordTable,
  id: string,
  columns: readonly string[] | null,
): Promise<unknown> {
  if (id.includes('\u0000')) return undefined;
  const query = db.selectFrom(table).where('id', '=', id);
  return (columns === null ? query.selectAll() : query.select(columns as unknown as ['id'])).executeTakeFirst();
}

/** One row by id, every column. */
export const findById = <T extends RecordTable>(db: Kysely<Database>, table: T, id: string) =>
  rowById(db, table, id, null) as Promise<RowOf<T> | undefined>;

/** One row by id as decisions read it: without the timestamps. */
export const findFactById = <T extends RecordTable>(db: Kysely<Database>, table: T, id: string) =>
  rowById(db, table, id, FACT_COLUMNS[table]) as Promise<FactRow<T> | undefined>;

/** The ids of the clients a user is linked to in allocations or ledger_access. */
export async function userClientIds(
  db: Kysely<Database>,
  table: 'allocations' | 'ledger_access',
  userId: string,
): Promise<string[]> {
  const rows = await db.selectFrom(table).select('client_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.client_id);
}

export interface ClientSummary {
  id: string;
  account_id: string;
  ledger: Client['ledger'];
}

/** Every client of an account, in id order (the candidates of a list query). */
export const accountClients = (db: Kysely<Database>, accountId: string): Promise<ClientSummary[]> =>
  db
    .selectFrom('clients')
    .select(['id', 'account_id', 'ledger'])
    .where('account_id', '=', accountId)
    .orderBy('id')
    .execute();

/** Every item of an account, in id order (the candidates of a list of items). */
export const accountItems = (db: Kysely<Database>, accountId: string): Promise<ItemFact[]> =>
  db.selectFrom('items').select(FACT_COLUMNS.items).where('account_id', '=', accountId).orderBy('id').execute();

/** Every user of an account, in id order (the candidates of a reverse query). */
export const accountUsers = (db: Kysely<Database>, accountId: string): Promise<UserFact[]> =>
  db.selectFrom('users').select(FACT_COLUMNS.users).where('account_id', '=', accountId).orderBy('id').execute();

/**
 * Ends a write transaction with a notification on `channel` naming it:
 * `${prefix}<xid>${separator}<xmin>`, xmin being the oldest transaction still running (every older
 * one has ended). A transaction's notifications are delivered at commit in the order they were
 * made, so this one arrives after every change its triggers told of. Returns the transaction's
 * id (xid8, in decimal); a transaction that changed nothing gets one too.
 */
export async function notifyCommit(
  db: Kysely<Database>,
  channel: string,
  prefix: string,
  separator: string,
): Promise<string> {
  const { rows } = await sql<{ xid: string }>`
    select x.xid, pg_notify(${channel}, ${prefix} || x.xid || ${separator} || pg_snapshot_xmin(pg_current_snapshot())::text)
    from (select pg_current_xact_id()::text as xid) as x`.execute(db);
  return (rows[0] as { xid: string }).xid;
}
