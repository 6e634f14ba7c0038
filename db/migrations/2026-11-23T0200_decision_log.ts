// The decision log: one row per answer, partitioned by day so that retention drops whole
// partitions. Daily partitions are created ahead of time by the service; the default partition
// only catches rows no daily partition covers, so an insert never fails for want of one.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table decision_log (
      decision_id uuid not null,
      decided_at timestamptz not null,
      endpoint text not null check (endpoint in ('decide', 'batch', 'query', 'opa')),
      batch_id uuid,
      token_id text,
      subject_id text not null,
      action text not null,
      resource_type text not null,
      resource_id text,
      -- null for a list query, which allows some resources and denies others
      allow boolean,
      reason_codes text[] not null,
      -- json, not jsonb: kept as written (a list query's input runs to a megabyte) and never
      -- searched inside; the columns operators filter by are the ones above
      input json,
      result json not null,
      masked jsonb not null default '[]',
      error jsonb,
      policy_revision text,
      eval_us double precision,
      duration_us double precision not null,
      primary key (decision_id, decided_at)
    ) partition by range (decided_at)`.execute(db);
  await sql`create table decision_log_default partition of decision_log default`.execute(db);

  // Newest first, alone or narrowed by the filters operators use most; decision_id breaks ties
  // so that keyset pagination is exact.
  await sql`create index decision_log_time_idx on decision_log (decided_at desc, decision_id desc)`.execute(db);
  await sql`create index decision_log_subject_idx on decision_log (subject_id, decided_at desc, decision_id desc)`.execute(db);
  await sql`create index decision_log_action_idx on decision_log (action, decided_at desc, decision_id desc)`.execute(db);
  await sql`create index decision_log_resource_idx on decision_log (resource_id, decided_at desc, decision_id desc)
            where resource_id is not null`.execute(db);
  await sql`create index decision_log_batch_idx on decision_log (batch_id) where batch_id is not null`.execute(db);
  await sql`create index decision_log_reason_codes_idx on decision_log using gin (reason_codes)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table decision_log`.execute(db);
}
