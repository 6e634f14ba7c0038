// Clients: practice accounts only. Deleting a client takes its allocations, ledger access and
// items (a client's documents go with it).
import type { Kysely } from 'kysely';
import { itemsWhere } from '../../data/records.ts';
import type { Account, Database } from '../../data/schema.ts';
import type { AuditDraft } from '../audit.ts';
import { clientEntry, itemEntry } from './audit-entries.ts';
import { pairsGoing } from './links.ts';
import { memberRecords, type MemberKind, type Upsert } from './members.ts';
import { practiceOf, type RecordStore } from './parents.ts';
import { upsertRecords } from './upsert.ts';
import { clientView, itemView, type ClientInput, type ClientView } from './views.ts';

export const upsertClients: Upsert<ClientInput, ClientView> = (trx, account, records, naming, changes) => {
  const desired = records.map((input) => ({
    id: input.id,
    account_id: account.id,
    account_kind: 'practice' as const,
    name: input.name,
    ledger: input.ledger ?? 'none',
  }));
  return upsertRecords(trx, CLIENTS, account.id, desired, naming, changes);
};

/** A client's pairs and items go with it (a client's documents go with it). */
async function clientCascade(trx: Kysely<Database>, account: Account, ids: readonly string[]): Promise<AuditDraft[]> {
  const items = (await itemsWhere(trx, 'client_id', ids)).map((item) => itemEntry(itemView(item), null));
  return [...(await pairsGoing(trx, account.id, { clientIds: ids })), ...items];
}

export const CLIENTS: MemberKind<'clients', ClientView, ClientInput, 'clients'> = {
  name: 'client',
  table: 'clients',
  list: 'clients',
  view: clientView,
  entry: clientEntry,
  account: practiceOf,
  upsert: upsertClients,
  cascade: clientCascade,
  deletesLast: false,
};

export const clientRecords = (store: RecordStore) => memberRecords(store, CLIENTS);
