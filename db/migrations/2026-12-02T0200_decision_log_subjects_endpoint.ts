// A reverse query ("who has access": POST /v1/subjects/query) is logged as one entry with the
// endpoint subjects: no single subject, the resource, every user's outcome in the result.
// Replacing the check scans every partition under an exclusive lock: on a large log, run the
// migration when a pause of the log's writers (durable mode answers 503 meanwhile) is acceptable.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

const endpoints = (names: string[]) => sql.raw(names.map((name) => `'${name}'`).join(', '));

async function allow(db: Kysely<any>, names: string[]): Promise<void> {
  await sql`alter table decision_log drop constraint if exists decision_log_endpoint_check`.execute(db);
  await sql`alter table decision_log add constraint decision_log_endpoint_check check (endpoint in (${endpoints(names)}))`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await allow(db, ['decide', 'batch', 'query', 'opa', 'subjects']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from decision_log where endpoint = 'subjects'`.execute(db);
  await allow(db, ['decide', 'batch', 'query', 'opa']);
}
