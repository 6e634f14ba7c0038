// What an access review lists beside the facts the policy reads: the names of an account's users
// and clients, which the policy never sees but a reviewer needs.
import type { Kysely } from 'kysely';
import type { Client, Database } from './schema.ts';

export interface ReviewedClient {
  id: string;
  account_id: string;
  name: string;
  ledger: Client['ledger'];
}

/** Every client of an account with its name, in id order. */
export const reviewedClients = (db: Kysely<Database>, accountId: string): Promise<ReviewedClient[]> =>
  db
    .selectFrom('clients')
    .select(['id', 'account_id', 'name', 'ledger'])
    .where('account_id', '=', accountId)
    .orderBy('id')
    .execute();
