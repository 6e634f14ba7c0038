// The audit trail records who exported the decision log, with what filter and in which format
// (record type decision_log, change export), beside the exports of access reviews.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

const list = (names: string[]) => sql.raw(names.map((name) => `'${name}'`).join(', '));
const BEFORE = ['account', 'user', 'client', 'item', 'allocation', 'ledger_access', 'token', 'access_review', 'policy_revision', 'policy_shadow'];

async function allowRecordTypes(db: Kysely<any>, recordTypes: string[]): Promise<void> {
  await sql`alter table audit_log drop constraint if exists audit_log_record_type_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_record_type_check check (record_type in (${list(recordTypes)}))`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await allowRecordTypes(db, [...BEFORE, 'decision_log']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from audit_log where record_type = 'decision_log'`.execute(db);
  await allowRecordTypes(db, BEFORE);
}
