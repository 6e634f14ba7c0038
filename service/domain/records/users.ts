// Users: a role of their account's kind, permissions with defaults; PUT is a full replace, PATCH a
// JSON merge patch. Deleting a user takes their allocations and ledger access; their items stay, unowned.
import type { Kysely } from 'kysely';
import { itemsWhere, type FieldsOf } from '../../data/records.ts';
import type { Account, AccountKind, Database, Role } from '../../data/schema.ts';
import { badRequest } from '../../errors.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import { itemEntry, userEntry } from './audit-entries.ts';
import { pairsGoing } from './links.ts';
import { lockedAccount, memberRecords, type MemberKind, type Upsert } from './members.ts';
import { accountOf, memberOf, type RecordStore } from './parents.ts';
import { upsertRecords, type Naming, type Written } from './upsert.ts';
import { DEFAULT_PERMISSIONS, itemView, userView } from './views.ts';
import type { Permissions, UserInput, UserPatch, UserView } from './views.ts';

const ROLES: Record<AccountKind, readonly Role[]> = {
  practice: ['practice_admin', 'client_admin', 'standard', 'expense_approver'],
  business: ['business_admin', 'user_admin', 'standard', 'expense_approver'],
};

export const upsertUsers: Upsert<UserInput, UserView> = (trx, account, records, naming, changes) => {
  const roles = ROLES[account.kind];
  const desired = records.map((input, i): FieldsOf<'users'> => {
    if (!roles.includes(input.role)) {
      const message = `role "${input.role}" is not a role of a ${account.kind} account (one of ${roles.join(', ')})`;
      throw badRequest('invalid_role', message, { field: naming.field(i, 'role') });
    }
    const mode = input.client_access_mode ?? null;
    if (mode !== null && account.kind !== 'practice') {
      const message = 'client_access_mode applies to users of practice accounts only; leave it out';
      throw badRequest('invalid_client_access_mode', message, { field: naming.field(i, 'client_access_mode') });
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
};

/** A user's pairs go with them; their items stay, unowned. */
async function userCascade(trx: Kysely<Database>, account: Account, ids: readonly string[]): Promise<AuditDraft[]> {
  const owned = (await itemsWhere(trx, 'owner_user_id', ids)).map(itemView);
  const unowned = owned.map((item) => itemEntry(item, { ...item, owner_user_id: null }));
  return [...(await pairsGoing(trx, account.id, { userIds: ids })), ...unowned];
}

/** The user a patch makes of the current one: absent fields stay, null resets a field to its default. */
function patched(current: UserView, patch: UserPatch): UserInput & { id: string } {
  const reset = <T>(value: T | null | undefined, kept: T, fallback: T): T =>
    value === undefined ? kept : (value ?? fallback);
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

export const USERS: MemberKind<'users', UserView, UserInput, 'users'> = {
  name: 'user',
  table: 'users',
  list: 'users',
  view: userView,
  entry: userEntry,
  account: lockedAccount,
  upsert: upsertUsers,
  cascade: userCascade,
  deletesLast: false,
};

export const userRecords = (store: RecordStore) => ({
  ...memberRecords(store, USERS),

  patch(actor: Actor, accountId: string, userId: string, patch: UserPatch, naming: Naming): Promise<Written<UserView>> {
    return store.writer.write(actor, async (trx, changes) => {
      const account = await accountOf(trx, accountId, true);
      const current = userView(await memberOf(trx, 'users', account, userId));
      const [written] = await upsertUsers(trx, account, [patched(current, patch)], naming, changes);
      return written as Written<UserView>;
    });
  },
});
