// Clients: practice accounts only. Deleting a client takes its allocations, ledger access and
// items (a client's documents go with it).
import type { Kysely } from 'kysely';
import { deleteByIds, itemsWhere, pairsWhere } from '../../data/records.ts';
import type { Account, Client, Database } from '../../data/schema.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import type { PageQuery } from '../paging.ts';
import { clientEntry, itemEntry, pairEntry } from './audit-entries.ts';
import { listRecords } from './pages.ts';
import { accountOf, memberOf, practiceOf, type RecordStore } from './parents.ts';
import { upsertRecords, type Naming, type RecordKind, type Written } from './upsert.ts';
import { clientView, itemView, type ClientInput, type ClientView } from './views.ts';

const CLIENTS: RecordKind<'clients', ClientView> = { name: 'client', table: 'clients', view: clientView, entry: clientEntry };

export function upsertClients(
  trx: Kysely<Database>,
  account: Account,
  records: ReadonlyArray<ClientInput & { id: string }>,
  naming: Naming,
  changes: AuditDraft[],
): Promise<Array<Written<ClientView>>> {
  const desired = records.map((input) => ({
    id: input.id,
    account_id: account.id,
    account_kind: 'practice' as const,
    name: input.name,
    ledger: input.ledger ?? 'none',
  }));
  return upsertRecords(trx, CLIENTS, account.id, desired, naming, changes);
}

/** The clients and, in the audit trail, their pairs and items, which go with them. */
export async function deleteClients(trx: Kysely<Database>, account: Account, clients: readonly Client[], changes: AuditDraft[]): Promise<void> {
  if (clients.length === 0) return;
  const ids = clients.map((c) => c.id);
  changes.push(...clients.map((c) => clientEntry(clientView(c), null)));
  for (const table of ['allocations', 'ledger_access'] as const) {
    changes.push(...(await pairsWhere(trx, table, { clientIds: ids })).map((p) => pairEntry(table, account.id, 'delete', p)));
  }
  changes.push(...(await itemsWhere(trx, 'client_id', ids)).map((i) => itemEntry(itemView(i), null)));
  await deleteByIds(trx, 'clients', ids);
}

export const clientRecords = ({ db, writer }: RecordStore) => ({
  async get(accountId: string, clientId: string): Promise<ClientView> {
    return clientView(await memberOf(db, 'clients', await accountOf(db, accountId, false), clientId));
  },

  async list(accountId: string, query: PageQuery): Promise<{ clients: ClientView[]; next_cursor: string | null }> {
    await accountOf(db, accountId, false);
    const { records, next_cursor } = await listRecords(db, 'clients', accountId, query, clientView);
    return { clients: records, next_cursor };
  },

  put(actor: Actor, accountId: string, clientId: string, input: ClientInput, naming: Naming): Promise<Written<ClientView>> {
    return writer.write(actor, async (trx, changes) => {
      const account = await practiceOf(trx, accountId, naming);
      const [written] = await upsertClients(trx, account, [{ ...input, id: clientId }], naming, changes);
      return written as Written<ClientView>;
    });
  },

  delete(actor: Actor, accountId: string, clientId: string): Promise<void> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      await deleteClients(trx, account, [await memberOf(trx, 'clients', account, clientId)], changes);
    });
  },
});
