// The audit trail records who exported an access review, and of what (record type access_review,
// change export, the account as the record), beside the changes of facts and tokens.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

const list = (names: string[]) => sql.raw(names.map((name) => `'${name}'`).join(', '));
const FACTS = ['account', 'user', 'client', 'item', 'allocation', 'ledger_access', 'token'];

async function allow(db: Kysely<any>, recordTypes: string[], changes: string[]): Promise<void> {
  await sql`alter table audit_log drop constraint if exists audit_log_record_type_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_record_type_check check (record_type in (${list(recordTypes)}))`.execute(db);
  await sql`alter table audit_log drop constraint if exists audit_log_change_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_change_check check (change in (${list(changes)}))`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await allow(db, [...FACTS, 'access_review'], ['create', 'update', 'delete', 'export']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from audit_log where record_type = 'access_review'`.execute(db);
  await allow(db, FACTS, ['create', 'update', 'delete']);
}
