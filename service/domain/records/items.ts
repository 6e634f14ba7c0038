// Items (expense claims, receipts, invoices): an owner and a client of their own account, or none.
import { idsInAccount, type FieldsOf } from '../../data/records.ts';
import { itemEntry } from './audit-entries.ts';
import { lockedAccount, memberRecords, type MemberKind, type Upsert } from './members.ts';
import type { RecordStore } from './parents.ts';
import { invalidReference, unique, upsertRecords } from './upsert.ts';
import { itemView, type ItemInput, type ItemView } from './views.ts';

const present = (ids: ReadonlyArray<string | null | undefined>): string[] => unique(ids.filter((id) => id != null));

export const upsertItems: Upsert<ItemInput, ItemView> = async (trx, account, records, naming, changes) => {
  const owners = await idsInAccount(trx, 'users', account.id, present(records.map((r) => r.owner_user_id)));
  const clients = await idsInAccount(trx, 'clients', account.id, present(records.map((r) => r.client_id)));
  const desired = records.map((input, i): FieldsOf<'items'> => {
    if (input.owner_user_id !== null && !owners.has(input.owner_user_id)) {
      const message = `user "${input.owner_user_id}" is not a user of account "${account.id}"`;
      throw invalidReference(naming.field(i, 'owner_user_id'), message);
    }
    const clientId = input.client_id ?? null;
    if (clientId !== null && !clients.has(clientId)) {
      const message = `client "${clientId}" is not a client of account "${account.id}"`;
      throw invalidReference(naming.field(i, 'client_id'), message);
    }
    const { id, owner_user_id, kind } = input;
    return { id, account_id: account.id, client_id: clientId, owner_user_id, kind };
  });
  return upsertRecords(trx, ITEMS, account.id, desired, naming, changes);
};

export const ITEMS: MemberKind<'items', ItemView, ItemInput, 'items'> = {
  name: 'item',
  table: 'items',
  list: 'items',
  view: itemView,
  entry: itemEntry,
  account: lockedAccount,
  upsert: upsertItems,
  cascade: async () => [],
  deletesLast: true,
};

export const itemRecords = (store: RecordStore) => memberRecords(store, ITEMS);
