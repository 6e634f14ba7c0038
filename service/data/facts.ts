// Reads of the facts a decision needs (one small indexed query each), and the commit notification
// that ends each write transaction.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Client, Database, Item, User } from './schema.ts';

/** The tables of records with a global id (ids are primary keys: a lookup finds a row of any account). */
export type RecordTable = 'accounts' | 'users' | 'clients' | 'items';
export type RowOf<T extends RecordTable> = Selectable<Database[T]> & { id: string };

/**
 * One row by id. Also asked with a caller's resource.attributes.client_id, which may hold a NUL:
 * PostgreSQL refuses that in a parameter (the decision would fail as if the database were down),
 * and no stored id holds one, so such an id is simply not found.
 */
export async function findById<T extends RecordTable>(
  db: Kysely<Database>,
  table: T,
  id: string,
): Promise<RowOf<T> | undefined> {
  if (id.includes('\u0000')) return undefined;
  const row = await db
    .selectFrom(table as RecordTable)
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row as RowOf<T> | undefined;
}

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
export const accountItems = (db: Kysely<Database>, accountId: string): Promise<Item[]> =>
  db.selectFrom('items').selectAll().where('account_id', '=', accountId).orderBy('id').execute();

/** Every user of an account, in id order (the candidates of a reverse query). */
export const accountUsers = (db: Kysely<Database>, accountId: string): Promise<User[]> =>
  db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('id').execute();

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
