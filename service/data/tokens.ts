// Data access for API tokens.
import { sql, type Kysely } from 'kysely';
import type { ApiToken, Database, Scope } from './schema.ts';

export async function findToken(db: Kysely<Database>, id: string): Promise<ApiToken | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function hasBootstrapToken(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom('api_tokens').select('id').where('bootstrap', '=', true).where('revoked_at', 'is', null).executeTakeFirst();
  return row !== undefined;
}

export async function insertToken(
  db: Kysely<Database>,
  token: { id: string; name: string; secretHash: Buffer; scopes: Scope[]; bootstrap?: boolean; expiresAt?: Date | null },
): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({
      id: token.id,
      name: token.name,
      secret_hash: token.secretHash,
      scopes: token.scopes,
      bootstrap: token.bootstrap ?? false,
      expires_at: token.expiresAt ?? null,
      revoked_at: null,
    })
    .execute();
}

/** Holds, until the transaction ends, the lock that lets one process at a time make the bootstrap token. */
export async function lockBootstrapToken(trx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('clearance.bootstrap_token'))`.execute(trx);
}
