// Bearer tokens: "clr_<id>_<secret>". Only a SHA-256 of the secret is stored (the secret is 256
// random bits, so a slow hash adds nothing); comparison is constant-time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Scope } from '../data/schema.ts';
import { findToken, hasBootstrapToken, insertToken, lockBootstrapToken } from '../data/tokens.ts';

export const ALL_SCOPES: readonly Scope[] = ['decide', 'admin', 'logs'];
const TOKEN_PATTERN = /^clr_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface Principal {
  tokenId: string;
  scopes: readonly Scope[];
}

export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

export function generateToken(): { id: string; secret: string; token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `clr_${id}_${secret}` };
}

/** Checks a presented token; null when unknown, wrong, revoked or expired. */
export class TokenVerifier {
  readonly #db: Kysely<Database>;
  readonly #envTokenHash: Buffer | null;

  constructor(db: Kysely<Database>, envAdminToken: string | null) {
    this.#db = db;
    this.#envTokenHash = envAdminToken === null ? null : hashSecret(envAdminToken);
  }

  async verify(presented: string, now = new Date()): Promise<Principal | null> {
    if (this.#envTokenHash !== null && timingSafeEqual(hashSecret(presented), this.#envTokenHash)) {
      return { tokenId: 'env:CLEARANCE_ADMIN_TOKEN', scopes: ALL_SCOPES };
    }
    const match = TOKEN_PATTERN.exec(presented);
    if (match === null) return null;
    const [, id, secret] = match as unknown as [string, string, string];
    const row = await findToken(this.#db, id);
    if (row === undefined) return null;
    if (!timingSafeEqual(hashSecret(secret), row.secret_hash)) return null;
    if (row.revoked_at !== null) return null;
    if (row.expires_at !== null && new Date(row.expires_at) <= now) return null;
    return { tokenId: row.id, scopes: row.scopes };
  }
}

/**
 * When no admin token is configured and none was made before, makes the bootstrap token
 * (every scope) and returns it so it can be shown once; otherwise returns null.
 */
export async function ensureBootstrapToken(db: Kysely<Database>, envAdminToken: string | null): Promise<string | null> {
  if (envAdminToken !== null) return null;
  // Workers starting together: one makes the token, the others then find it.
  return db.transaction().execute(async (trx) => {
    await lockBootstrapToken(trx);
    if (await hasBootstrapToken(trx)) return null;
    const { id, secret, token } = generateToken();
    await insertToken(trx, { id, name: 'bootstrap admin token', secretHash: hashSecret(secret), scopes: [...ALL_SCOPES], bootstrap: true });
    return token;
  });
}
