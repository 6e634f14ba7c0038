// Allocations and ledger access: the (user, client) pairs of one account, read and written as a
// user's set of client ids.
import type { Kysely } from 'kysely';
import { deletePairs, idsInAccount, insertPairs, pairsWhere, type Pair } from '../../data/records.ts';
import type { Database, LinkTable } from '../../data/schema.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import { pairEntry } from './audit-entries.ts';
import { accountOf, memberOf, type RecordStore } from './parents.ts';
import { invalidReference, unique, type SyncMode } from './upsert.ts';

const pairKey = (p: Pair): string => `${p.user_id}/${p.client_id}`;

/** The audit entries of the pairs that go (by cascade) with some users, some clients or a whole account. */
export async function pairsGoing(
  trx: Kysely<Database>,
  accountId: string,
  where: { accountId: string } | { userIds: readonly string[] } | { clientIds: readonly string[] },
): Promise<AuditDraft[]> {
  const entries: AuditDraft[] = [];
  for (const table of ['allocations', 'ledger_access'] as const) {
    entries.push(...(await pairsWhere(trx, table, where)).map((p) => pairEntry(table, accountId, 'delete', p)));
  }
  return entries;
}

/**
 * Adds the desired pairs that are not current; replace also removes the current ones not desired.
 * Duplicate pairs count once. One audit entry per pair added or removed.
 */
export async function applyPairs(
  trx: Kysely<Database>,
  table: LinkTable,
  accountId: string,
  desired: readonly Pair[],
  current: readonly Pair[],
  mode: SyncMode,
  changes: AuditDraft[],
): Promise<{ created: number; unchanged: number; deleted: number }> {
  const have = new Set(current.map(pairKey));
  const want = new Map(desired.map((p) => [pairKey(p), { user_id: p.user_id, client_id: p.client_id }]));
  const added = [...want.values()].filter((p) => !have.has(pairKey(p)));
  const removed = mode === 'replace' ? current.filter((p) => !want.has(pairKey(p))) : [];
  await deletePairs(trx, table, accountId, removed);
  await insertPairs(trx, table, accountId, added);
  changes.push(
    ...removed.map((p) => pairEntry(table, accountId, 'delete', p)),
    ...added.map((p) => pairEntry(table, accountId, 'create', p)),
  );
  return { created: added.length, unchanged: want.size - added.length, deleted: removed.length };
}

export const linkRecords = ({ db, writer }: RecordStore) => ({
  async get(table: LinkTable, accountId: string, userId: string): Promise<{ client_ids: string[] }> {
    await memberOf(db, 'users', await accountOf(db, accountId, false), userId);
    const pairs = await pairsWhere(db, table, { userIds: [userId] });
    return { client_ids: pairs.map((p) => p.client_id).sort() };
  },

  /** Makes the user's set exactly clientIds (duplicates are harmless); [] removes them all. */
  put(
    actor: Actor,
    table: LinkTable,
    accountId: string,
    userId: string,
    clientIds: readonly string[],
  ): Promise<{ client_ids: string[] }> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      await memberOf(trx, 'users', account, userId);
      const wanted = unique(clientIds);
      const known = await idsInAccount(trx, 'clients', account.id, wanted);
      const missing = clientIds.findIndex((id) => !known.has(id));
      if (missing >= 0) {
        const message = `client "${clientIds[missing]}" is not a client of account "${account.id}"`;
        throw invalidReference(`client_ids[${missing}]`, message);
      }
      const current = await pairsWhere(trx, table, { userIds: [userId] });
      const desired = wanted.map((client_id) => ({ user_id: userId, client_id }));
      await applyPairs(trx, table, account.id, desired, current, 'replace', changes);
      return { client_ids: [...wanted].sort() };
    });
  },
});
