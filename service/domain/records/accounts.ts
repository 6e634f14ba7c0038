// Accounts: a practice or a business. The kind stays once the account has users or clients;
// deleting an account deletes everything in it, each record that goes in the audit trail.
import { accountHasMembers, deleteAccount, insertAccount, lockAccount } from '../../data/records.ts';
import { rowsOfAccount, updateAccount } from '../../data/records.ts';
import type { AccountKind } from '../../data/schema.ts';
import { AppError, badRequest } from '../../errors.ts';
import type { Actor } from '../audit.ts';
import type { PageQuery } from '../paging.ts';
import { accountEntry, clientEntry, itemEntry, userEntry } from './audit-entries.ts';
import { listRecords } from './pages.ts';
import { pairsGoing } from './links.ts';
import { accountOf, type RecordStore } from './parents.ts';
import type { Written } from './upsert.ts';
import { accountView, clientView, itemView, userView, type AccountView } from './views.ts';

export interface AccountInput {
  kind: AccountKind;
  name: string;
}

export const accountRecords = ({ db, writer }: RecordStore) => ({
  async get(id: string): Promise<AccountView> {
    return accountView(await accountOf(db, id, false));
  },

  async list(query: PageQuery): Promise<{ accounts: AccountView[]; next_cursor: string | null }> {
    const { records, next_cursor } = await listRecords(db, 'accounts', null, query, accountView);
    return { accounts: records, next_cursor };
  },

  put(actor: Actor, id: string, input: AccountInput): Promise<Written<AccountView>> {
    return writer.write(actor, async (trx, changes) => {
      let current = await lockAccount(trx, id);
      if (current === undefined) {
        const inserted = await insertAccount(trx, { id, kind: input.kind, name: input.name });
        if (inserted !== undefined) {
          const created = accountView(inserted);
          changes.push(accountEntry(null, created));
          return { record: created, outcome: 'created' as const };
        }
        // Two first PUTs of one id raced and the other committed first: from here this PUT is an
        // update of that row (each statement sees what is committed), so a retried PUT never fails.
        current = await lockAccount(trx, id);
        if (current === undefined) {
          const message = `account "${id}" was created and deleted by concurrent requests; nothing was written`;
          throw new AppError(409, 'conflict', `${message}, retry the request`);
        }
      }
      if (current.kind === input.kind && current.name === input.name) {
        return { record: accountView(current), outcome: 'unchanged' as const };
      }
      if (current.kind !== input.kind && (await accountHasMembers(trx, id))) {
        const message = `account "${id}" has users or clients, so its kind stays ${current.kind}`;
        throw badRequest('account_kind_locked', message, { field: 'kind' });
      }
      const updated = accountView(await updateAccount(trx, id, input));
      changes.push(accountEntry(accountView(current), updated));
      return { record: updated, outcome: 'updated' as const };
    });
  },

  /** Deletes the account and everything in it; each record that goes is in the audit trail. */
  delete(actor: Actor, id: string): Promise<void> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, id, true);
      const users = await rowsOfAccount(trx, 'users', id);
      const clients = await rowsOfAccount(trx, 'clients', id);
      const items = await rowsOfAccount(trx, 'items', id);
      changes.push(accountEntry(accountView(account), null));
      changes.push(...users.map((u) => userEntry(userView(u), null)));
      changes.push(...clients.map((c) => clientEntry(clientView(c), null)));
      changes.push(...(await pairsGoing(trx, id, { accountId: id })));
      changes.push(...items.map((i) => itemEntry(itemView(i), null)));
      await deleteAccount(trx, id);
    });
  },
});
