// Data access for API tokens.
import { sql, type Kysely } from 'kysely';
import type { ApiToken, Database, Scope } from './schema.ts';

export async function findToken(db: Kysely<Database>, id: string): Promise<ApiToken | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The names of these tokens, by id (ids with no row are left out). */
export async function tokenNames(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('api_tokens').select(['id', 'name']).where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** Whether a bootstrap token was ever made (revoked ones count: it is made on first start only). */
export async function hasBootstrapToken(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom('api_tokens').select('id').where('bootstrap', '=', true).executeTakeFirst();
  return row !== undefined;
}

export async function insertToken(
  db: Kysely<Database>,
  token: {
    id: string;
    name: string;
    secretHash: Buffer;
    scopes: Scope[];
    bootstrap?: boolean;
    expiresAt?: Date | null;
  },
): Promise<ApiToken> {
  return db
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
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Every token, newest first (there are few). */
export const listTokens = (db: Kysely<Database>): Promise<ApiToken[]> =>
  db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();

/** Sets revoked_at on a token not yet revoked; returns the row as it was before, or undefined. */
export async function revokeToken(
  db: Kysely<Database>,
  id: string,
): Promise<{ before: ApiToken; after: ApiToken } | undefined> {
  const before = await db
    .selectFrom('api_tokens')
    .selectAll()
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  if (before === undefined) return undefined;
  const after = await db
    .updateTable('api_tokens')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { before, after };
}

/** Holds, until the transaction ends, the lock that lets one process at a time make the bootstrap token. */
export async function lockBootstrapToken(trx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('clearance.bootstrap_token'))`.execute(trx);
}
