// Records as GET shows them, and as the audit trail keeps them (before and after a change), and
// the records as callers send them.
import type {
  Account,
  AccountKind,
  Client,
  ClientAccessMode,
  Item,
  ItemKind,
  Ledger,
  Publishing,
  Role,
  User,
  UserStatus,
} from '../../data/schema.ts';

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
