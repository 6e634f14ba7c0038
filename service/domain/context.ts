// The context API's rules: what a valid fact is, how a PUT, PATCH, DELETE or bulk sync changes
// the facts, and what each change leaves in the audit trail. One transaction per request, so a
// refusal changes nothing. Knows nothing of HTTP: callers get records, outcomes and AppErrors.
import type { Kysely } from 'kysely';
import * as data from '../data/context.ts';
import type { ClientFields, ItemFields, PageRequest, Pair, UserFields } from '../data/context.ts';
import type {
  Account,
  AccountKind,
  Client,
  ClientAccessMode,
  Database,
  Item,
  ItemKind,
  Ledger,
  LinkTable,
  Publishing,
  Role,
  User,
  UserStatus,
} from '../data/schema.ts';
import { AppError, badRequest, notFound } from '../errors.ts';
import type { Actor, AuditDraft, AuditedWriter } from './audit.ts';
import { decodeCursor, encodeCursor, type PageQuery } from './paging.ts';

/** Most records one bulk sync may carry. */
export const MAX_SYNC_RECORDS = 10_000;

const ROLES: Record<AccountKind, readonly Role[]> = {
  practice: ['practice_admin', 'client_admin', 'standard', 'expense_approver'],
  business: ['business_admin', 'user_admin', 'standard', 'expense_approver'],
};

// Records as GET shows them (and as the audit trail keeps them, before and after).

const iso = (t: Date | string): string => new Date(t).toISOString();

export interface AccountView {
  id: string;
  kind: AccountKind;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface Permissions {
  add_clients: boolean;
  practice_insights: boolean;
  manage_business: boolean;
  create_expense_claims: boolean;
  publishing: Publishing;
}

export const DEFAULT_PERMISSIONS: Readonly<Permissions> = {
  add_clients: false,
  practice_insights: false,
  manage_business: false,
  create_expense_claims: false,
  publishing: 'none',
};

export interface UserView {
  id: string;
  account_id: string;
  name: string;
  role: Role;
  status: UserStatus;
  client_access_mode: ClientAccessMode | null;
  permissions: Permissions;
  xpm_staff_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface ClientView {
  id: string;
  account_id: string;
  name: string;
  ledger: Ledger;
  created_at: string;
  updated_at: string;
}

export interface ItemView {
  id: string;
  account_id: string;
  kind: ItemKind;
  owner_user_id: string | null;
  client_id: string | null;
  created_at: string;
  updated_at: string;
}

export const accountView = (a: Account): AccountView => ({
  id: a.id,
  kind: a.kind,
  name: a.name,
  created_at: iso(a.created_at),
  updated_at: iso(a.updated_at),
});

export const userView = (u: User): UserView => ({
  id: u.id,
  account_id: u.account_id,
  name: u.name,
  role: u.role,
  status: u.status,
  client_access_mode: u.client_access_mode,
  permissions: {
    add_clients: u.add_clients,
    practice_insights: u.practice_insights,
    manage_business: u.manage_business,
    create_expense_claims: u.create_expense_claims,
    publishing: u.publishing,
  },
  xpm_staff_id: u.xpm_staff_id,
  created_at: iso(u.created_at),
  updated_at: iso(u.updated_at),
});

export const clientView = (c: Client): ClientView => ({
  id: c.id,
  account_id: c.account_id,
  name: c.name,
  ledger: c.ledger,
  created_at: iso(c.created_at),
  updated_at: iso(c.updated_at),
});

export const itemView = (i: Item): ItemView => ({
  id: i.id,
  account_id: i.account_id,
  kind: i.kind,
  owner_user_id: i.owner_user_id,
  client_id: i.client_id,
  created_at: iso(i.created_at),
  updated_at: iso(i.updated_at),
});

// What callers send.

export interface UserInput {
  name: string;
  role: Role;
  status?: UserStatus;
  client_access_mode?: ClientAccessMode | null;
  permissions?: Partial<Permissions>;
  xpm_staff_id?: string | null;
}

/** A JSON merge patch (RFC 7396) of a user: absent fields stay, null resets a field to its default. */
export interface UserPatch {
  name?: string;
  role?: Role;
  status?: UserStatus | null;
  client_access_mode?: ClientAccessMode | null;
  permissions?: { [K in keyof Permissions]?: Permissions[K] | null } | null;
  xpm_staff_id?: string | null;
}

export interface ClientInput {
  name: string;
  ledger?: Ledger;
}

export interface ItemInput {
  kind: ItemKind;
  owner_user_id: string | null;
  client_id?: string | null;
}

export type SyncMode = 'upsert' | 'replace';
export type Outcome = 'created' | 'updated' | 'unchanged';

export interface Written<T> {
  record: T;
  outcome: Outcome;
}

export interface SyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export type { PageQuery } from './paging.ts';

// Refusals.

/** Names the failing field: the body's own field (or path parameter) for one record, records[i].field in a bulk sync. */
type FieldOf = (index: number, field: string) => string;
const single =
  (idParameter: string): FieldOf =>
  (_index, field) =>
    field === 'id' ? idParameter : field;
const inRecords: FieldOf = (index, field) => `records[${index}].${field}`;

const accountNotFound = (id: string) => notFound('account_not_found', `account "${id}" does not exist`);
const recordNotFound = (kind: 'user' | 'client' | 'item', id: string, accountId: string) =>
  notFound(`${kind}_not_found`, `${kind} "${id}" does not exist in account "${accountId}"`);
const invalidReference = (field: string, message: string) => badRequest('invalid_reference', message, { field });
const idConflict = (kind: string, id: string, field: string) =>
  new AppError(409, 'id_conflict', `${kind} id "${id}" is taken by another account (ids are global); nothing was written`, {
    details: { field },
  });

function refuseDuplicates(ids: readonly string[], what: string): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw badRequest('duplicate_record', `${what} "${id}" is listed twice`, { field: `records[${i}].id` });
    seen.add(id);
  });
}

// Audit entries.

function recordEntry<V extends { id: string; account_id: string }>(
  recordType: 'user' | 'client' | 'item',
  before: V | null,
  after: V | null,
  concerns: (v: V) => { user_id: string | null; client_id: string | null },
): AuditDraft {
  const record = (after ?? before) as V;
  return {
    account_id: record.account_id,
    record_type: recordType,
    record_id: record.id,
    ...concerns(record),
    change: before === null ? 'create' : after === null ? 'delete' : 'update',
    before,
    after,
  };
}

const accountEntry = (before: AccountView | null, after: AccountView | null): AuditDraft => {
  const id = (after ?? before)?.id as string;
  return {
    account_id: id,
    record_type: 'account',
    record_id: id,
    user_id: null,
    client_id: null,
    change: before === null ? 'create' : after === null ? 'delete' : 'update',
    before,
    after,
  };
};
const userEntry = (before: UserView | null, after: UserView | null) => recordEntry('user', before, after, (u) => ({ user_id: u.id, client_id: null }));
const clientEntry = (before: ClientView | null, after: ClientView | null) => recordEntry('client', before, after, (c) => ({ user_id: null, client_id: c.id }));
// An item concerns its owner (the new one when it changes hands) and its client.
const itemEntry = (before: ItemView | null, after: ItemView | null) =>
  recordEntry('item', before, after, (i) => ({ user_id: i.owner_user_id ?? before?.owner_user_id ?? null, client_id: i.client_id }));
const pairEntry = (table: LinkTable, accountId: string, change: 'create' | 'delete', pair: Pair): AuditDraft => {
  const value = { user_id: pair.user_id, client_id: pair.client_id };
  return {
    account_id: accountId,
    record_type: table === 'allocations' ? 'allocation' : 'ledger_access',
    record_id: `${pair.user_id}/${pair.client_id}`,
    user_id: pair.user_id,
    client_id: pair.client_id,
    change,
    before: change === 'delete' ? value : null,
    after: change === 'create' ? value : null,
  };
};

// Pages of a list: keyset on id; the cursor holds the last id shown, for this list only.

const isIdPosition = (position: unknown[]): position is [string] => position.length === 1 && typeof position[0] === 'string';

async function page<R extends { id: string }, V>(
  list: string,
  query: PageQuery,
  read: (page: PageRequest) => Promise<R[]>,
  view: (row: R) => V,
): Promise<{ records: V[]; next_cursor: string | null }> {
  const after = query.cursor === undefined ? null : decodeCursor(list, query.cursor, isIdPosition)[0];
  const rows = await read({ limit: query.limit + 1, after });
  const shown = rows.slice(0, query.limit);
  const last = shown.at(-1);
  return { records: shown.map(view), next_cursor: rows.length > query.limit && last !== undefined ? encodeCursor(list, [last.id]) : null };
}

// Writing users, clients and items: the same steps for each kind.

interface RecordKind<R extends { id: string; account_id: string }, F extends { id: string }, V> {
  name: 'user' | 'client' | 'item';
  find(db: Kysely<Database>, ids: readonly string[]): Promise<R[]>;
  upsert(db: Kysely<Database>, rows: readonly F[]): Promise<R[]>;
  view(row: R): V;
  entry(before: V | null, after: V | null): AuditDraft;
}

const USERS: RecordKind<User, UserFields, UserView> = { name: 'user', find: data.findUsers, upsert: data.upsertUsers, view: userView, entry: userEntry };
const CLIENTS: RecordKind<Client, ClientFields, ClientView> = { name: 'client', find: data.findClients, upsert: data.upsertClients, view: clientView, entry: clientEntry };
const ITEMS: RecordKind<Item, ItemFields, ItemView> = { name: 'item', find: data.findItems, upsert: data.upsertItems, view: itemView, entry: itemEntry };

/** A stored row already holds these values: writing them would change nothing. */
const holds = <F extends object>(row: object, fields: F): boolean =>
  Object.entries(fields).every(([key, value]) => (row as Record<string, unknown>)[key] === value);

/**
 * Creates the records that do not exist and updates the ones that differ; leaves the rest (and
 * their updated_at) alone and writes no audit entry for them. Results are in the order given.
 */
async function upsertRecords<R extends { id: string; account_id: string }, F extends { id: string }, V>(
  trx: Kysely<Database>,
  kind: RecordKind<R, F, V>,
  accountId: string,
  desired: readonly F[],
  field: FieldOf,
  changes: AuditDraft[],
): Promise<Array<Written<V>>> {
  const existing = new Map((await kind.find(trx, desired.map((d) => d.id))).map((r) => [r.id, r]));
  const toWrite: F[] = [];
  desired.forEach((fields, i) => {
    const current = existing.get(fields.id);
    if (current !== undefined && current.account_id !== accountId) throw idConflict(kind.name, fields.id, field(i, 'id'));
    if (current === undefined || !holds(current, fields)) toWrite.push(fields);
  });
  const written = new Map((await kind.upsert(trx, toWrite)).map((r) => [r.id, r]));
  if (written.size !== toWrite.length) {
    throw new AppError(409, 'conflict', `a concurrent change gave one of these ${kind.name} ids to another account; nothing was written, retry the request`);
  }
  return desired.map((fields) => {
    const current = existing.get(fields.id);
    const row = written.get(fields.id);
    if (row === undefined) return { record: kind.view(current as R), outcome: 'unchanged' };
    const before = current === undefined ? null : kind.view(current);
    const after = kind.view(row);
    changes.push(kind.entry(before, after));
    return { record: after, outcome: before === null ? 'created' : 'updated' };
  });
}

function counted(results: ReadonlyArray<Written<unknown>>, deleted: number): SyncCounts {
  const counts: SyncCounts = { created: 0, updated: 0, unchanged: 0, deleted };
  for (const r of results) counts[r.outcome] += 1;
  return counts;
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];
const pairKey = (p: Pair): string => `${p.user_id}/${p.client_id}`;

export class ContextService {
  readonly #db: Kysely<Database>;
  readonly #writer: AuditedWriter;

  constructor(db: Kysely<Database>, writer: AuditedWriter) {
    this.#db = db;
    this.#writer = writer;
  }

  // Parents.

  async #account(db: Kysely<Database>, id: string, lock: boolean): Promise<Account> {
    const account = lock ? await data.lockAccount(db, id) : await data.findAccount(db, id);
    if (account === undefined) throw accountNotFound(id);
    return account;
  }

  async #record<R extends { id: string; account_id: string }>(
    db: Kysely<Database>,
    kind: { name: 'user' | 'client' | 'item'; find(db: Kysely<Database>, ids: readonly string[]): Promise<R[]> },
    account: Account,
    id: string,
  ): Promise<R> {
    const [row] = await kind.find(db, [id]);
    // A record of another account is as unknown here as one that does not exist.
    if (row === undefined || row.account_id !== account.id) throw recordNotFound(kind.name, id, account.id);
    return row;
  }

  // Accounts.

  async getAccount(id: string): Promise<AccountView> {
    return accountView(await this.#account(this.#db, id, false));
  }

  async listAccounts(query: PageQuery): Promise<{ accounts: AccountView[]; next_cursor: string | null }> {
    const { records, next_cursor } = await page('accounts', query, (p) => data.pageAccounts(this.#db, p), accountView);
    return { accounts: records, next_cursor };
  }

  putAccount(actor: Actor, id: string, input: { kind: AccountKind; name: string }): Promise<Written<AccountView>> {
    return this.#writer.write(actor, async (trx, changes) => {
      let current = await data.lockAccount(trx, id);
      if (current === undefined) {
        const inserted = await data.insertAccount(trx, { id, kind: input.kind, name: input.name });
        if (inserted !== undefined) {
          const created = accountView(inserted);
          changes.push(accountEntry(null, created));
          return { record: created, outcome: 'created' as const };
        }
        // Two first PUTs of one id raced and the other committed first: from here this PUT is an
        // update of that row (each statement sees what is committed), so a retried PUT never fails.
        current = await data.lockAccount(trx, id);
        if (current === undefined) throw new AppError(409, 'conflict', `account "${id}" was created and deleted by concurrent requests; nothing was written, retry the request`);
      }
      if (current.kind === input.kind && current.name === input.name) return { record: accountView(current), outcome: 'unchanged' as const };
      if (current.kind !== input.kind && (await data.accountHasMembers(trx, id))) {
        throw badRequest('account_kind_locked', `account "${id}" has users or clients, so its kind stays ${current.kind}`, { field: 'kind' });
      }
      const updated = accountView(await data.updateAccount(trx, id, input));
      changes.push(accountEntry(accountView(current), updated));
      return { record: updated, outcome: 'updated' as const };
    });
  }

  /** Deletes the account and everything in it; each record that goes is in the audit trail. */
  deleteAccount(actor: Actor, id: string): Promise<void> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, id, true);
      const users = await data.accountUsers(trx, id);
      const clients = await data.accountClientRows(trx, id);
      const items = await data.accountItems(trx, id);
      changes.push(accountEntry(accountView(account), null));
      changes.push(...users.map((u) => userEntry(userView(u), null)));
      changes.push(...clients.map((c) => clientEntry(clientView(c), null)));
      for (const table of ['allocations', 'ledger_access'] as const) {
        changes.push(...(await data.pairsWhere(trx, table, { accountId: id })).map((p) => pairEntry(table, id, 'delete', p)));
      }
      changes.push(...items.map((i) => itemEntry(itemView(i), null)));
      await data.deleteAccount(trx, id);
    });
  }

  // Users.

  async getUser(accountId: string, userId: string): Promise<UserView> {
    const account = await this.#account(this.#db, accountId, false);
    return userView(await this.#record(this.#db, USERS, account, userId));
  }

  async listUsers(accountId: string, query: PageQuery): Promise<{ users: UserView[]; next_cursor: string | null }> {
    await this.#account(this.#db, accountId, false);
    const { records, next_cursor } = await page(`users/${accountId}`, query, (p) => data.pageUsers(this.#db, accountId, p), userView);
    return { users: records, next_cursor };
  }

  /** A full replace: fields left out go back to their defaults. */
  putUser(actor: Actor, accountId: string, userId: string, input: UserInput): Promise<Written<UserView>> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      const [written] = await this.#upsertUsers(trx, account, [{ ...input, id: userId }], single('userId'), changes);
      return written as Written<UserView>;
    });
  }

  patchUser(actor: Actor, accountId: string, userId: string, patch: UserPatch): Promise<Written<UserView>> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      const current = userView(await this.#record(trx, USERS, account, userId));
      const reset = <T>(value: T | null | undefined, kept: T, fallback: T): T => (value === undefined ? kept : value ?? fallback);
      const permissions = { ...current.permissions };
      if (patch.permissions === null) Object.assign(permissions, DEFAULT_PERMISSIONS);
      else if (patch.permissions !== undefined) {
        for (const key of Object.keys(DEFAULT_PERMISSIONS) as Array<keyof Permissions>) {
          (permissions as Record<string, unknown>)[key] = reset(patch.permissions[key], current.permissions[key], DEFAULT_PERMISSIONS[key]);
        }
      }
      const merged: UserInput & { id: string } = {
        id: userId,
        name: patch.name ?? current.name,
        role: patch.role ?? current.role,
        status: reset(patch.status, current.status, 'active'),
        client_access_mode: reset(patch.client_access_mode, current.client_access_mode, null),
        permissions,
        xpm_staff_id: reset(patch.xpm_staff_id, current.xpm_staff_id, null),
      };
      const [written] = await this.#upsertUsers(trx, account, [merged], single('userId'), changes);
      return written as Written<UserView>;
    });
  }

  /** Deletes the user; their allocations and ledger access go with them, their items stay unowned. */
  deleteUser(actor: Actor, accountId: string, userId: string): Promise<void> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      await this.#deleteUsers(trx, account, [await this.#record(trx, USERS, account, userId)], changes);
    });
  }

  syncUsers(actor: Actor, accountId: string, records: ReadonlyArray<UserInput & { id: string }>, mode: SyncMode): Promise<SyncCounts> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      const ids = records.map((r) => r.id);
      refuseDuplicates(ids, 'user');
      const gone = mode === 'replace' ? await data.accountUsersExcept(trx, account.id, ids) : [];
      await this.#deleteUsers(trx, account, gone, changes);
      return counted(await this.#upsertUsers(trx, account, records, inRecords, changes), gone.length);
    });
  }

  #upsertUsers(
    trx: Kysely<Database>,
    account: Account,
    records: ReadonlyArray<UserInput & { id: string }>,
    field: FieldOf,
    changes: AuditDraft[],
  ): Promise<Array<Written<UserView>>> {
    const roles = ROLES[account.kind];
    const desired = records.map((input, i): UserFields => {
      if (!roles.includes(input.role)) {
        throw badRequest('invalid_role', `role "${input.role}" is not a role of a ${account.kind} account (one of ${roles.join(', ')})`, {
          field: field(i, 'role'),
        });
      }
      const mode = input.client_access_mode ?? null;
      if (mode !== null && account.kind !== 'practice') {
        throw badRequest('invalid_client_access_mode', 'client_access_mode applies to users of practice accounts only; leave it out', {
          field: field(i, 'client_access_mode'),
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
    return upsertRecords(trx, USERS, account.id, desired, field, changes);
  }

  async #deleteUsers(trx: Kysely<Database>, account: Account, users: readonly User[], changes: AuditDraft[]): Promise<void> {
    if (users.length === 0) return;
    const ids = users.map((u) => u.id);
    changes.push(...users.map((u) => userEntry(userView(u), null)));
    for (const table of ['allocations', 'ledger_access'] as const) {
      changes.push(...(await data.pairsWhere(trx, table, { userIds: ids })).map((p) => pairEntry(table, account.id, 'delete', p)));
    }
    for (const item of await data.itemsOwnedBy(trx, ids)) {
      const before = itemView(item);
      changes.push(itemEntry(before, { ...before, owner_user_id: null }));
    }
    await data.deleteByIds(trx, 'users', ids);
  }

  // Clients.

  async getClient(accountId: string, clientId: string): Promise<ClientView> {
    const account = await this.#account(this.#db, accountId, false);
    return clientView(await this.#record(this.#db, CLIENTS, account, clientId));
  }

  async listClients(accountId: string, query: PageQuery): Promise<{ clients: ClientView[]; next_cursor: string | null }> {
    await this.#account(this.#db, accountId, false);
    const { records, next_cursor } = await page(`clients/${accountId}`, query, (p) => data.pageClients(this.#db, accountId, p), clientView);
    return { clients: records, next_cursor };
  }

  putClient(actor: Actor, accountId: string, clientId: string, input: ClientInput): Promise<Written<ClientView>> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#practice(trx, accountId);
      const [written] = await this.#upsertClients(trx, account, [{ ...input, id: clientId }], single('clientId'), changes);
      return written as Written<ClientView>;
    });
  }

  /** Deletes the client with its allocations, ledger access and items (a client's documents go with it). */
  deleteClient(actor: Actor, accountId: string, clientId: string): Promise<void> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      await this.#deleteClients(trx, account, [await this.#record(trx, CLIENTS, account, clientId)], changes);
    });
  }

  syncClients(actor: Actor, accountId: string, records: ReadonlyArray<ClientInput & { id: string }>, mode: SyncMode): Promise<SyncCounts> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#practice(trx, accountId);
      const ids = records.map((r) => r.id);
      refuseDuplicates(ids, 'client');
      const gone = mode === 'replace' ? await data.accountClientsExcept(trx, account.id, ids) : [];
      await this.#deleteClients(trx, account, gone, changes);
      return counted(await this.#upsertClients(trx, account, records, inRecords, changes), gone.length);
    });
  }

  async #practice(trx: Kysely<Database>, accountId: string): Promise<Account> {
    const account = await this.#account(trx, accountId, true);
    if (account.kind !== 'practice') {
      throw badRequest('invalid_account_kind', `account "${accountId}" is a ${account.kind} account; only practice accounts have clients`, {
        field: 'accountId',
      });
    }
    return account;
  }

  #upsertClients(
    trx: Kysely<Database>,
    account: Account,
    records: ReadonlyArray<ClientInput & { id: string }>,
    field: FieldOf,
    changes: AuditDraft[],
  ): Promise<Array<Written<ClientView>>> {
    const desired = records.map(
      (input): ClientFields => ({ id: input.id, account_id: account.id, account_kind: 'practice', name: input.name, ledger: input.ledger ?? 'none' }),
    );
    return upsertRecords(trx, CLIENTS, account.id, desired, field, changes);
  }

  async #deleteClients(trx: Kysely<Database>, account: Account, clients: readonly Client[], changes: AuditDraft[]): Promise<void> {
    if (clients.length === 0) return;
    const ids = clients.map((c) => c.id);
    changes.push(...clients.map((c) => clientEntry(clientView(c), null)));
    for (const table of ['allocations', 'ledger_access'] as const) {
      changes.push(...(await data.pairsWhere(trx, table, { clientIds: ids })).map((p) => pairEntry(table, account.id, 'delete', p)));
    }
    changes.push(...(await data.itemsOfClients(trx, ids)).map((i) => itemEntry(itemView(i), null)));
    await data.deleteByIds(trx, 'clients', ids);
  }

  // Items.

  async getItem(accountId: string, itemId: string): Promise<ItemView> {
    const account = await this.#account(this.#db, accountId, false);
    return itemView(await this.#record(this.#db, ITEMS, account, itemId));
  }

  async listItems(accountId: string, query: PageQuery): Promise<{ items: ItemView[]; next_cursor: string | null }> {
    await this.#account(this.#db, accountId, false);
    const { records, next_cursor } = await page(`items/${accountId}`, query, (p) => data.pageItems(this.#db, accountId, p), itemView);
    return { items: records, next_cursor };
  }

  putItem(actor: Actor, accountId: string, itemId: string, input: ItemInput): Promise<Written<ItemView>> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      const [written] = await this.#upsertItems(trx, account, [{ ...input, id: itemId }], single('itemId'), changes);
      return written as Written<ItemView>;
    });
  }

  deleteItem(actor: Actor, accountId: string, itemId: string): Promise<void> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      const item = await this.#record(trx, ITEMS, account, itemId);
      changes.push(itemEntry(itemView(item), null));
      await data.deleteByIds(trx, 'items', [item.id]);
    });
  }

  syncItems(actor: Actor, accountId: string, records: ReadonlyArray<ItemInput & { id: string }>, mode: SyncMode): Promise<SyncCounts> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      const ids = records.map((r) => r.id);
      refuseDuplicates(ids, 'item');
      const results = await this.#upsertItems(trx, account, records, inRecords, changes);
      const gone = mode === 'replace' ? await data.accountItemsExcept(trx, account.id, ids) : [];
      changes.push(...gone.map((i) => itemEntry(itemView(i), null)));
      await data.deleteByIds(trx, 'items', gone.map((i) => i.id));
      return counted(results, gone.length);
    });
  }

  async #upsertItems(
    trx: Kysely<Database>,
    account: Account,
    records: ReadonlyArray<ItemInput & { id: string }>,
    field: FieldOf,
    changes: AuditDraft[],
  ): Promise<Array<Written<ItemView>>> {
    const owners = await data.idsInAccount(trx, 'users', account.id, unique(records.flatMap((r) => (r.owner_user_id === null ? [] : [r.owner_user_id]))));
    const clients = await data.idsInAccount(trx, 'clients', account.id, unique(records.flatMap((r) => (r.client_id == null ? [] : [r.client_id]))));
    const desired = records.map((input, i): ItemFields => {
      if (input.owner_user_id !== null && !owners.has(input.owner_user_id)) {
        throw invalidReference(field(i, 'owner_user_id'), `user "${input.owner_user_id}" is not a user of account "${account.id}"`);
      }
      const clientId = input.client_id ?? null;
      if (clientId !== null && !clients.has(clientId)) {
        throw invalidReference(field(i, 'client_id'), `client "${clientId}" is not a client of account "${account.id}"`);
      }
      return { id: input.id, account_id: account.id, client_id: clientId, owner_user_id: input.owner_user_id, kind: input.kind };
    });
    return upsertRecords(trx, ITEMS, account.id, desired, field, changes);
  }

  // Allocations and ledger access.

  async getLinks(table: LinkTable, accountId: string, userId: string): Promise<{ client_ids: string[] }> {
    const account = await this.#account(this.#db, accountId, false);
    await this.#record(this.#db, USERS, account, userId);
    const pairs = await data.pairsWhere(this.#db, table, { userIds: [userId] });
    return { client_ids: pairs.map((p) => p.client_id).sort() };
  }

  /** Makes the user's set exactly clientIds (duplicates are harmless); one audit entry per pair added or removed. */
  putLinks(actor: Actor, table: LinkTable, accountId: string, userId: string, clientIds: readonly string[]): Promise<{ client_ids: string[] }> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      await this.#record(trx, USERS, account, userId);
      const wanted = unique(clientIds);
      const known = await data.idsInAccount(trx, 'clients', account.id, wanted);
      const missing = clientIds.findIndex((id) => !known.has(id));
      if (missing >= 0) {
        throw invalidReference(`client_ids[${missing}]`, `client "${clientIds[missing]}" is not a client of account "${account.id}"`);
      }
      const current = await data.pairsWhere(trx, table, { userIds: [userId] });
      await this.#applyPairs(trx, table, account.id, wanted.map((client_id) => ({ user_id: userId, client_id })), current, 'replace', changes);
      return { client_ids: [...wanted].sort() };
    });
  }

  /**
   * upsert adds the listed pairs; replace makes the account's whole set exactly the listed one
   * (a full ledger sync). Duplicate pairs count once.
   */
  syncLinks(actor: Actor, table: LinkTable, accountId: string, records: readonly Pair[], mode: SyncMode): Promise<SyncCounts> {
    return this.#writer.write(actor, async (trx, changes) => {
      const account = await this.#account(trx, accountId, true);
      const users = await data.idsInAccount(trx, 'users', account.id, unique(records.map((r) => r.user_id)));
      const clients = await data.idsInAccount(trx, 'clients', account.id, unique(records.map((r) => r.client_id)));
      records.forEach((r, i) => {
        if (!users.has(r.user_id)) throw invalidReference(`records[${i}].user_id`, `user "${r.user_id}" is not a user of account "${account.id}"`);
        if (!clients.has(r.client_id)) {
          throw invalidReference(`records[${i}].client_id`, `client "${r.client_id}" is not a client of account "${account.id}"`);
        }
      });
      const current = await data.pairsWhere(trx, table, mode === 'replace' ? { accountId: account.id } : { userIds: [...users] });
      return { updated: 0, ...(await this.#applyPairs(trx, table, account.id, records, current, mode, changes)) };
    });
  }

  async #applyPairs(
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
    await data.deletePairs(trx, table, accountId, removed);
    await data.insertPairs(trx, table, accountId, added);
    changes.push(...removed.map((p) => pairEntry(table, accountId, 'delete', p)), ...added.map((p) => pairEntry(table, accountId, 'create', p)));
    return { created: added.length, unchanged: want.size - added.length, deleted: removed.length };
  }
}
