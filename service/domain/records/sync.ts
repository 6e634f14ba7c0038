// Bulk syncs: up to 10,000 records of one kind in one request and one transaction. upsert writes
// the records sent; replace also deletes the account's records of that kind that were not sent.
import type { Kysely } from 'kysely';
import { idsInAccount, pairsWhere, rowsOfAccount, type MemberTable, type Pair } from '../../data/records.ts';
import type { Database, LinkTable } from '../../data/schema.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import { CLIENTS } from './clients.ts';
import { ITEMS } from './items.ts';
import { applyPairs } from './links.ts';
import { deleteMembers, type MemberKind } from './members.ts';
import { accountOf, type RecordStore } from './parents.ts';
import { counted, invalidReference, refuseDuplicates, unique } from './upsert.ts';
import type { Naming, SyncCounts, SyncMode } from './upsert.ts';
import { USERS } from './users.ts';

/** Most records one bulk sync may carry. */
export const MAX_SYNC_RECORDS = 10_000;

type Trx = Kysely<Database>;

async function syncRecords<T extends MemberTable, V, I, L extends string>(
  trx: Trx,
  kind: MemberKind<T, V, I, L>,
  accountId: string,
  records: ReadonlyArray<I & { id: string }>,
  mode: SyncMode,
  naming: Naming,
  changes: AuditDraft[],
): Promise<SyncCounts> {
  const account = await kind.account(trx, accountId, naming);
  const ids = records.map((r) => r.id);
  refuseDuplicates(ids, kind.name, naming);
  const deleteGone = async () => {
    const gone = mode === 'replace' ? await rowsOfAccount(trx, kind.table, account.id, ids) : [];
    await deleteMembers(trx, kind, account, gone, changes);
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
      const message = `user "${r.user_id}" is not a user of account "${account.id}"`;
      throw invalidReference(naming.field(i, 'user_id'), message);
    }
    if (!clients.has(r.client_id)) {
      const message = `client "${r.client_id}" is not a client of account "${account.id}"`;
      throw invalidReference(naming.field(i, 'client_id'), message);
    }
  });
  const where = mode === 'replace' ? { accountId: account.id } : { userIds: [...users] };
  const current = await pairsWhere(trx, table, where);
  return { updated: 0, ...(await applyPairs(trx, table, account.id, records, current, mode, changes)) };
}

export const bulkSync = ({ writer }: RecordStore) => {
  const of =
    <T extends MemberTable, V, I, L extends string>(kind: MemberKind<T, V, I, L>) =>
    (actor: Actor, accountId: string, records: ReadonlyArray<I & { id: string }>, mode: SyncMode, naming: Naming) =>
      writer.write(actor, (trx, changes) => syncRecords(trx, kind, accountId, records, mode, naming, changes));
  return {
    users: of(USERS),
    clients: of(CLIENTS),
    items: of(ITEMS),
    links: (
      actor: Actor,
      table: LinkTable,
      accountId: string,
      records: readonly Pair[],
      mode: SyncMode,
      naming: Naming,
    ): Promise<SyncCounts> =>
      writer.write(actor, (trx, changes) => syncPairs(trx, table, accountId, records, mode, naming, changes)),
  };
};
