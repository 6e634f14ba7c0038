// Items (expense claims, receipts, invoices): an owner and a client of their own account, or none.
import type { Kysely } from 'kysely';
import { deleteByIds, idsInAccount, type FieldsOf } from '../../data/records.ts';
import type { Account, Database, Item } from '../../data/schema.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import type { PageQuery } from '../paging.ts';
import { itemEntry } from './audit-entries.ts';
import { listRecords } from './pages.ts';
import { accountOf, memberOf, type RecordStore } from './parents.ts';
import { invalidReference, unique, upsertRecords, type Naming, type RecordKind, type Written } from './upsert.ts';
import { itemView, type ItemInput, type ItemView } from './views.ts';

const ITEMS: RecordKind<'items', ItemView> = { name: 'item', table: 'items', view: itemView, entry: itemEntry };

const present = (ids: ReadonlyArray<string | null | undefined>): string[] => unique(ids.filter((id) => id != null));

export async function upsertItems(
  trx: Kysely<Database>,
  account: Account,
  records: ReadonlyArray<ItemInput & { id: string }>,
  naming: Naming,
  changes: AuditDraft[],
): Promise<Array<Written<ItemView>>> {
  const owners = await idsInAccount(trx, 'users', account.id, present(records.map((r) => r.owner_user_id)));
  const clients = await idsInAccount(trx, 'clients', account.id, present(records.map((r) => r.client_id)));
  const desired = records.map((input, i): FieldsOf<'items'> => {
    if (input.owner_user_id !== null && !owners.has(input.owner_user_id)) {
      const message = `user "${input.owner_user_id}" is not a user of account "${account.id}"`;
      throw invalidReference(naming.field(i, 'owner_user_id'), message);
    }
    const clientId = input.client_id ?? null;
    if (clientId !== null && !clients.has(clientId)) {
      throw invalidReference(naming.field(i, 'client_id'), `client "${clientId}" is not a client of account "${account.id}"`);
    }
    return { id: input.id, account_id: account.id, client_id: clientId, owner_user_id: input.owner_user_id, kind: input.kind };
  });
  return upsertRecords(trx, ITEMS, account.id, desired, naming, changes);
}

export async function deleteItems(trx: Kysely<Database>, items: readonly Item[], changes: AuditDraft[]): Promise<void> {
  changes.push(...items.map((i) => itemEntry(itemView(i), null)));
  await deleteByIds(trx, 'items', items.map((i) => i.id));
}

export const itemRecords = ({ db, writer }: RecordStore) => ({
  async get(accountId: string, itemId: string): Promise<ItemView> {
    return itemView(await memberOf(db, 'items', await accountOf(db, accountId, false), itemId));
  },

  async list(accountId: string, query: PageQuery): Promise<{ items: ItemView[]; next_cursor: string | null }> {
    await accountOf(db, accountId, false);
    const { records, next_cursor } = await listRecords(db, 'items', accountId, query, itemView);
    return { items: records, next_cursor };
  },

  put(actor: Actor, accountId: string, itemId: string, input: ItemInput, naming: Naming): Promise<Written<ItemView>> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      const [written] = await upsertItems(trx, account, [{ ...input, id: itemId }], naming, changes);
      return written as Written<ItemView>;
    });
  },

  delete(actor: Actor, accountId: string, itemId: string): Promise<void> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      await deleteItems(trx, [await memberOf(trx, 'items', account, itemId)], changes);
    });
  },
});
