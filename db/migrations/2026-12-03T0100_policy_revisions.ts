// Policy revisions: bundles stored by their content id, the history of activations (the active
// revision is the newest; each row points at the one active before it, which a rollback follows),
// the shadow revision, the decision log's record of a shadow disagreement, the token scope policy
// (the bootstrap token gains it), and the audit trail's record types for revisions.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

const list = (names: string[]) => sql.raw(names.map((name) => `'${name}'`).join(', '));
const FACTS = ['account', 'user', 'client', 'item', 'allocation', 'ledger_access', 'token'];

async function allowAudit(db: Kysely<any>, recordTypes: string[], changes: string[]): Promise<void> {
  await sql`alter table audit_log drop constraint if exists audit_log_record_type_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_record_type_check check (record_type in (${list(recordTypes)}))`.execute(db);
  await sql`alter table audit_log drop constraint if exists audit_log_change_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_change_check check (change in (${list(changes)}))`.execute(db);
}

async function allowScopes(db: Kysely<any>, scopes: string[]): Promise<void> {
  await sql`alter table api_tokens drop constraint if exists api_tokens_scopes_check`.execute(db);
  await sql`alter table api_tokens add constraint api_tokens_scopes_check
            check (cardinality(scopes) > 0 and scopes <@ array[${list(scopes)}]::text[])`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table policy_revisions (
      revision text primary key check (revision ~ '^[0-9a-f]{32}$'),
      bundle bytea not null,
      contract text not null,
      sources text[] not null,
      size_bytes integer not null,
      signed boolean not null,
      created_at timestamptz not null default now(),
      created_by text not null
    )`.execute(db);
  await sql`
    create table policy_activations (
      seq bigint generated always as identity primary key,
      revision text not null references policy_revisions,
      -- the activation this one replaced: what a rollback returns to
      previous_seq bigint references policy_activations,
      change text not null check (change in ('activate', 'rollback')),
      activated_at timestamptz not null default now(),
      activated_by text not null
    )`.execute(db);
  await sql`
    create table policy_shadow (
      singleton boolean primary key default true check (singleton),
      revision text not null references policy_revisions,
      set_at timestamptz not null default now(),
      set_by text not null
    )`.execute(db);
  // {revision, allow, reasons} of the shadow revision, kept only where it disagreed.
  await sql`alter table decision_log add column shadow jsonb`.execute(db);
  await sql`create index decision_log_shadow_idx on decision_log (decided_at desc, decision_id desc)
            where shadow is not null`.execute(db);
  await allowScopes(db, ['decide', 'admin', 'logs', 'policy']);
  await sql`update api_tokens set scopes = scopes || array['policy'] where bootstrap and not 'policy' = any(scopes)`.execute(db);
  await allowAudit(
    db,
    [...FACTS, 'access_review', 'policy_revision', 'policy_shadow'],
    ['create', 'update', 'delete', 'export', 'activate', 'rollback'],
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from audit_log where record_type in ('policy_revision', 'policy_shadow')`.execute(db);
  await allowAudit(db, [...FACTS, 'access_review'], ['create', 'update', 'delete', 'export']);
  await sql`update api_tokens set scopes = array_remove(scopes, 'policy')`.execute(db);
  await sql`delete from api_tokens where cardinality(scopes) = 0`.execute(db);
  await allowScopes(db, ['decide', 'admin', 'logs']);
  await sql`alter table decision_log drop column shadow`.execute(db);
  await sql`drop table policy_shadow`.execute(db);
  await sql`drop table policy_activations`.execute(db);
  await sql`drop table policy_revisions`.execute(db);
}
