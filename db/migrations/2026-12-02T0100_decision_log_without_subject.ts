// A decision may be about no subject, action or resource: the OPA-compatible path answers a
// request without an input with the policy's default decision, as OPA does, and logs it like any
// other answer. Those columns take null for such an entry (never an empty string standing in).
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table decision_log
      alter column subject_id drop not null,
      alter column action drop not null,
      alter column resource_type drop not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from decision_log where subject_id is null or action is null or resource_type is null`.execute(db);
  await sql`
    alter table decision_log
      alter column subject_id set not null,
      alter column action set not null,
      alter column resource_type set not null`.execute(db);
}
