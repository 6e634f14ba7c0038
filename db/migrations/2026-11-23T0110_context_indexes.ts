// Indexes the context API reads by: an account's items in id order (lists, cascades) and an
// account's allocation and ledger-access pairs (a full ledger sync replaces them all).
// Frozen in time: never import application code here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('items_account_id_id_idx').on('items').columns(['account_id', 'id']).execute();
  for (const table of ['allocations', 'ledger_access']) {
    await db.schema.createIndex(`${table}_account_id_idx`).on(table).columns(['account_id', 'user_id', 'client_id']).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['ledger_access_account_id_idx', 'allocations_account_id_idx', 'items_account_id_id_idx']) {
    await db.schema.dropIndex(index).execute();
  }
}
