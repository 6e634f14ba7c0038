// The one typed view of the database, kept in step with db/migrations.
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export type AccountKind = 'practice' | 'business';
export type Role =
  | 'practice_admin'
  | 'client_admin'
  | 'business_admin'
  | 'user_admin'
  | 'standard'
  | 'expense_approver';
export type UserStatus = 'active' | 'suspended';
export type ClientAccessMode = 'all' | 'selected' | 'ledger_all' | 'ledger_selected';
export type Publishing = 'all' | 'expense_claims_only' | 'none';
export type Ledger = 'xero' | 'myob' | 'quickbooks' | 'none';
export type ItemKind = 'expense_claim' | 'receipt' | 'invoice';

/** A timestamptz: read as a Date; optional on insert (the column defaults to now()). */
// A timestamptz: read as a Date, optional on insert (every such column defaults to now()).
// (Not Generated<>: that would wrap the ColumnType and leave selects typed as the wrapper.)
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AccountsTable {
  id: string;
  name: string;
  kind: AccountKind;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: string;
  account_id: string;
  account_kind: AccountKind;
  name: string;
  role: Role;
  status: Generated<UserStatus>;
  client_access_mode: ClientAccessMode | null;
  add_clients: Generated<boolean>;
  practice_insights: Generated<boolean>;
  manage_business: Generated<boolean>;
  create_expense_claims: Generated<boolean>;
  publishing: Generated<Publishing>;
  xpm_staff_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ClientsTable {
  id: string;
  account_id: string;
  account_kind: 'practice';
  name: string;
  ledger: Generated<Ledger>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Allocations and ledger access share this shape. */
export interface UserClientTable {
  account_id: string;
  user_id: string;
  client_id: string;
  created_at: Timestamp;
}

export interface ItemsTable {
  id: string;
  account_id: string;
  client_id: string | null;
  owner_user_id: string | null;
  kind: ItemKind;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type Scope = 'decide' | 'admin' | 'logs' | 'policy';

export interface ApiTokensTable {
  id: string;
  name: string;
  secret_hash: Buffer;
  scopes: Scope[];
  bootstrap: Generated<boolean>;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export type DecisionEndpoint = 'decide' | 'batch' | 'query' | 'opa' | 'subjects';

/**
 * A change made to an entry before it was stored, at a JSON pointer into it: a mask the log policy
 * applied (remove, upsert), or NUL characters made visible as \u0000 (escape; PostgreSQL cannot store them).
 */
export interface MaskApplied {
  op: 'remove' | 'upsert' | 'escape';
  path: string;
}

type Json = ColumnType<unknown, string, string>;

export interface DecisionLogTable {
  decision_id: string;
  decided_at: Timestamp;
  endpoint: DecisionEndpoint;
  batch_id: string | null;
  token_id: string | null;
  /** null (as action and resource_type) for an answer about no request: an OPA call without input. */
  subject_id: string | null;
  action: string | null;
  resource_type: string | null;
  resource_id: string | null;
  allow: boolean | null;
  reason_codes: string[];
  input: ColumnType<unknown, string | null, string | null>;
  result: Json;
  masked: ColumnType<MaskApplied[], string, string>;
  error: ColumnType<{ code: string; message: string } | null, string | null, string | null>;
  policy_revision: string | null;
  eval_us: number | null;
  duration_us: number;
  /** The shadow revision's answer, kept only where it disagreed with the one given. */
  shadow: ColumnType<ShadowVerdict | null, string | null | undefined, string | null>;
}

/** What the shadow revision answered for one decision: allow, and the reason codes. */
export interface ShadowVerdict {
  revision: string;
  allow: boolean;
  reasons: string[];
}

/** The record types of changes to facts and tokens (each a change of one fact table). */
export type FactRecordType = 'account' | 'user' | 'client' | 'item' | 'allocation' | 'ledger_access' | 'token';
/**
 * What the audit trail records: changes of facts and tokens, exports of an access review and of
 * the decision log, uploads (create), activations and rollbacks of policy revisions, and the
 * shadow revision (update, delete).
 */
export type AuditRecordType = FactRecordType | 'access_review' | 'decision_log' | 'policy_revision' | 'policy_shadow';
export type AuditChange = 'create' | 'update' | 'delete' | 'export' | 'activate' | 'rollback';

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  request_id: string;
  token_id: string;
  account_id: string | null;
  record_type: AuditRecordType;
  record_id: string;
  user_id: string | null;
  client_id: string | null;
  change: AuditChange;
  before: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  after: ColumnType<Record<string, unknown> | null, string | null, string | null>;
}

export interface PolicyRevisionsTable {
  revision: string;
  bundle: Buffer;
  contract: string;
  sources: string[];
  size_bytes: number;
  signed: boolean;
  created_at: Timestamp;
  created_by: string;
}

export interface PolicyActivationsTable {
  seq: ColumnType<string, never, never>;
  revision: string;
  previous_seq: string | null;
  change: 'activate' | 'rollback';
  activated_at: Timestamp;
  activated_by: string;
}

export interface PolicyShadowTable {
  singleton: ColumnType<boolean, true | undefined, true>;
  revision: string;
  set_at: Timestamp;
  set_by: string;
}

export interface Database {
  policy_revisions: PolicyRevisionsTable;
  policy_activations: PolicyActivationsTable;
  policy_shadow: PolicyShadowTable;
  api_tokens: ApiTokensTable;
  decision_log: DecisionLogTable;
  audit_log: AuditLogTable;
  accounts: AccountsTable;
  users: UsersTable;
  clients: ClientsTable;
  allocations: UserClientTable;
  ledger_access: UserClientTable;
  items: ItemsTable;
}

export type Account = Selectable<AccountsTable>;
export type NewAccount = Insertable<AccountsTable>;
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Client = Selectable<ClientsTable>;
export type Item = Selectable<ItemsTable>;
export type ApiToken = Selectable<ApiTokensTable>;
export type DecisionLogRow = Selectable<DecisionLogTable>;
export type NewDecisionLogRow = Insertable<DecisionLogTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type PolicyRevisionRow = Selectable<PolicyRevisionsTable>;
export type PolicyActivationRow = Selectable<PolicyActivationsTable>;
/** The two link tables: allocations (chosen by an admin) and ledger access (synced from the ledger). */
export type LinkTable = 'allocations' | 'ledger_access';
