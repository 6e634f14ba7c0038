// Bulk syncs: up to 10,000 records of one kind in one request and one transaction. upsert writes
// the records sent; replace also deletes the account's records of that kind that were not sent.
import type { Kysely } from 'kysely';
import { idsInAccount, pairsWhere, rowsOfAccount, type Pair } from '../../data/records.ts';
import type { Account, Client, Database, Item, LinkTable, User } from '../../data/schema.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import { deleteClients, upsertClients } from './clients.ts';
import { deleteItems, upsertItems } from './items.ts';
import { applyPairs } from './links.ts';
import { accountOf, practiceOf, type RecordStore } from './parents.ts';
import { counted, invalidReference, refuseDuplicates, unique } from './upsert.ts';
import type { Naming, SyncCounts, SyncMode, Written } from './upsert.ts';
import { deleteUsers, upsertUsers } from './users.ts';
import type { ClientInput, ItemInput, UserInput } from './views.ts';

/** Most records one bulk sync may carry. */
export const MAX_SYNC_RECORDS = 10_000;

type Trx = Kysely<Database>;

/** How a sync of one kind checks its account, writes and deletes (each by the kind's own rules). */
interface SyncKind<I extends { id: string }, R> {
  name: 'user' | 'client' | 'item';
  account(trx: Trx, accountId: string, naming: Naming): Promise<Account>;
  /** The account's records whose ids are not in keep: what a replace deletes. */
  gone(trx: Trx, accountId: string, keep: readonly string[]): Promise<R[]>;
  upsert(trx: Trx, account: Account, records: readonly I[], naming: Naming, changes: AuditDraft[]): Promise<Array<Written<unknown>>>;
  delete(trx: Trx, account: Account, rows: readonly R[], changes: AuditDraft[]): Promise<void>;
  /** Whether the deletions come after the upsert in the audit trail (items) rather than before. */
  deletesLast: boolean;
}

const lockedAccount = (trx: Trx, accountId: string) => accountOf(trx, accountId, true);

const USERS: SyncKind<UserInput & { id: string }, User> = {
  name: 'user',
  account: lockedAccount,
  gone: (trx, accountId, keep) => rowsOfAccount(trx, 'users', accountId, keep),
  upsert: upsertUsers,
  delete: deleteUsers,
  deletesLast: false,
};

const CLIENTS: SyncKind<ClientInput & { id: string }, Client> = {
  name: 'client',
  account: practiceOf,
  gone: (trx, accountId, keep) => rowsOfAccount(trx, 'clients', accountId, keep),
  upsert: upsertClients,
  delete: deleteClients,
  deletesLast: false,
};

const ITEMS: SyncKind<ItemInput & { id: string }, Item> = {
  name: 'item',
  account: lockedAccount,
  gone: (trx, accountId, keep) => rowsOfAccount(trx, 'items', accountId, keep),
  upsert: upsertItems,
  delete: (trx, _account, rows, changes) => deleteItems(trx, rows, changes),
  deletesLast: true,
};

async function syncRecords<I extends { id: string }, R>(
  trx: Trx,
  kind: SyncKind<I, R>,
  accountId: string,
  records: readonly I[],
  mode: SyncMode,
  naming: Naming,
  changes: AuditDraft[],
): Promise<SyncCounts> {
  const account = await kind.account(trx, accountId, naming);
  const ids = records.map((r) => r.id);
  refuseDuplicates(ids, kind.name, naming);
  const deleteGone = async () => {
    const gone = mode === 'replace' ? await kind.gone(trx, account.id, ids) : [];
    await kind.delete(trx, account, gone, changes);
    return gone.length;
  };
  const deletedFirst = kind.deletesLast ? 0 : await deleteGone();
  const results = await kind.upsert(trx, account, records, naming, changes);
  return counted(results, kind.deletesLast ? await deleteGone() : deletedFirst);
}

/**
 * upsert adds the listed pairs; replace makes the account's whole set exactly the listed one
 * (a full ledger sync). Duplicate pairs count once.
 */
async function syncPairs(
  trx: Trx,
  table: LinkTable,
  accountId: string,
  records: readonly Pair[],
  mode: SyncMode,
  naming: Naming,
  changes: AuditDraft[],
): Promise<SyncCounts> {
  const account = await accountOf(trx, accountId, true);
  const users = await idsInAccount(trx, 'users', account.id, unique(records.map((r) => r.user_id)));
  const clients = await idsInAccount(trx, 'clients', account.id, unique(records.map((r) => r.client_id)));
  records.forEach((r, i) => {
    if (!users.has(r.user_id)) {
      throw invalidReference(naming.field(i, 'user_id'), `user "${r.user_id}" is not a user of account "${account.id}"`);
    }
    if (!clients.has(r.client_id)) {
      throw invalidReference(naming.field(i, 'client_id'), `client "${r.client_id}" is not a client of account "${account.id}"`);
    }
  });
  const current = await pairsWhere(trx, table, mode === 'replace' ? { accountId: account.id } : { userIds: [...users] });
  return { updated: 0, ...(await applyPairs(trx, table, account.id, records, current, mode, changes)) };
}

export const bulkSync = ({ writer }: RecordStore) => {
  const of =
    <I extends { id: string }, R>(kind: SyncKind<I, R>) =>
    (actor: Actor, accountId: string, records: readonly I[], mode: SyncMode, naming: Naming): Promise<SyncCounts> =>
      writer.write(actor, (trx, changes) => syncRecords(trx, kind, accountId, records, mode, naming, changes));
  return {
    users: of(USERS),
    clients: of(CLIENTS),
    items: of(ITEMS),
    links: (actor: Actor, table: LinkTable, accountId: string, records: readonly Pair[], mode: SyncMode, naming: Naming) =>
      writer.write(actor, (trx, changes) => syncPairs(trx, table, accountId, records, mode, naming, changes)),
  };
};
