// Users: a role of their account's kind, permissions with defaults; PUT is a full replace, PATCH a
// JSON merge patch. Deleting a user takes their allocations and ledger access; their items stay, unowned.
import type { Kysely } from 'kysely';
import { deleteByIds, itemsWhere, pairsWhere, type FieldsOf } from '../../data/records.ts';
import type { Account, AccountKind, Database, Role, User } from '../../data/schema.ts';
import { badRequest } from '../../errors.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import type { PageQuery } from '../paging.ts';
import { itemEntry, pairEntry, userEntry } from './audit-entries.ts';
import { listRecords } from './pages.ts';
import { accountOf, memberOf, type RecordStore } from './parents.ts';
import { upsertRecords, type Naming, type RecordKind, type Written } from './upsert.ts';
import { DEFAULT_PERMISSIONS, itemView, userView, type Permissions, type UserInput, type UserPatch, type UserView } from './views.ts';

const ROLES: Record<AccountKind, readonly Role[]> = {
  practice: ['practice_admin', 'client_admin', 'standard', 'expense_approver'],
  business: ['business_admin', 'user_admin', 'standard', 'expense_approver'],
};

const USERS: RecordKind<'users', UserView> = { name: 'user', table: 'users', view: userView, entry: userEntry };

export function upsertUsers(
  trx: Kysely<Database>,
  account: Account,
  records: ReadonlyArray<UserInput & { id: string }>,
  naming: Naming,
  changes: AuditDraft[],
): Promise<Array<Written<UserView>>> {
  const roles = ROLES[account.kind];
  const desired = records.map((input, i): FieldsOf<'users'> => {
    if (!roles.includes(input.role)) {
      const message = `role "${input.role}" is not a role of a ${account.kind} account (one of ${roles.join(', ')})`;
      throw badRequest('invalid_role', message, { field: naming.field(i, 'role') });
    }
    const mode = input.client_access_mode ?? null;
    if (mode !== null && account.kind !== 'practice') {
      throw badRequest('invalid_client_access_mode', 'client_access_mode applies to users of practice accounts only; leave it out', {
        field: naming.field(i, 'client_access_mode'),
      });
    }
    return {
      id: input.id,
      account_id: account.id,
      account_kind: account.kind,
      name: input.name,
      role: input.role,
      status: input.status ?? 'active',
      client_access_mode: mode,
      ...DEFAULT_PERMISSIONS,
      ...input.permissions,
      xpm_staff_id: input.xpm_staff_id ?? null,
    };
  });
  return upsertRecords(trx, USERS, account.id, desired, naming, changes);
}

/** The users and, in the audit trail, their pairs and the items they no longer own. */
export async function deleteUsers(trx: Kysely<Database>, account: Account, users: readonly User[], changes: AuditDraft[]): Promise<void> {
  if (users.length === 0) return;
  const ids = users.map((u) => u.id);
  changes.push(...users.map((u) => userEntry(userView(u), null)));
  for (const table of ['allocations', 'ledger_access'] as const) {
    changes.push(...(await pairsWhere(trx, table, { userIds: ids })).map((p) => pairEntry(table, account.id, 'delete', p)));
  }
  for (const item of await itemsWhere(trx, 'owner_user_id', ids)) {
    const before = itemView(item);
    changes.push(itemEntry(before, { ...before, owner_user_id: null }));
  }
  await deleteByIds(trx, 'users', ids);
}

/** The user a patch makes of the current one: absent fields stay, null resets a field to its default. */
function patched(current: UserView, patch: UserPatch): UserInput & { id: string } {
  const reset = <T>(value: T | null | undefined, kept: T, fallback: T): T => (value === undefined ? kept : value ?? fallback);
  const permissions = { ...current.permissions };
  if (patch.permissions === null) Object.assign(permissions, DEFAULT_PERMISSIONS);
  else if (patch.permissions !== undefined) {
    for (const key of Object.keys(DEFAULT_PERMISSIONS) as Array<keyof Permissions>) {
      const value = reset(patch.permissions[key], current.permissions[key], DEFAULT_PERMISSIONS[key]);
      (permissions as Record<string, unknown>)[key] = value;
    }
  }
  return {
    id: current.id,
    name: patch.name ?? current.name,
    role: patch.role ?? current.role,
    status: reset(patch.status, current.status, 'active'),
    client_access_mode: reset(patch.client_access_mode, current.client_access_mode, null),
    permissions,
    xpm_staff_id: reset(patch.xpm_staff_id, current.xpm_staff_id, null),
  };
}

export const userRecords = ({ db, writer }: RecordStore) => ({
  async get(accountId: string, userId: string): Promise<UserView> {
    return userView(await memberOf(db, 'users', await accountOf(db, accountId, false), userId));
  },

  async list(accountId: string, query: PageQuery): Promise<{ users: UserView[]; next_cursor: string | null }> {
    await accountOf(db, accountId, false);
    const { records, next_cursor } = await listRecords(db, 'users', accountId, query, userView);
    return { users: records, next_cursor };
  },

  /** A full replace: fields left out go back to their defaults. */
  put(actor: Actor, accountId: string, userId: string, input: UserInput, naming: Naming): Promise<Written<UserView>> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      const [written] = await upsertUsers(trx, account, [{ ...input, id: userId }], naming, changes);
      return written as Written<UserView>;
    });
  },

  patch(actor: Actor, accountId: string, userId: string, patch: UserPatch, naming: Naming): Promise<Written<UserView>> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      const current = userView(await memberOf(trx, 'users', account, userId));
      const [written] = await upsertUsers(trx, account, [patched(current, patch)], naming, changes);
      return written as Written<UserView>;
    });
  },

  delete(actor: Actor, accountId: string, userId: string): Promise<void> {
    return writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      await deleteUsers(trx, account, [await memberOf(trx, 'users', account, userId)], changes);
    });
  },
});

