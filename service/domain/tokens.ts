// Bearer tokens: "clr_<id>_<secret>". Only a SHA-256 of the secret is stored (the secret is 256
// random bits, so a slow hash adds nothing); comparison is constant-time. Token rows are read
// through the fact cache, which follows the change feed; expiry is checked against the clock on
// every request, and a revocation drops the cached row in this process before it is answered.
// A token passes on no more than it holds: it grants only scopes it has, for no longer than it
// lives itself, and sees and revokes only tokens whose scopes it has (SPEC §3).
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiToken, Database, Scope } from '../data/schema.ts';
import {
  findToken,
  hasBootstrapToken,
  insertToken,
  listTokens,
  lockBootstrapToken,
  revokeToken,
} from '../data/tokens.ts';
import { AppError, badRequest, notFound } from '../errors.ts';
import type { Actor, AuditDraft, AuditedWriter } from './audit.ts';

export const ALL_SCOPES: readonly Scope[] = ['decide', 'admin', 'logs', 'policy'];
const TOKEN_PATTERN = /^clr_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;
/** The principal id of the CLEARANCE_ADMIN_TOKEN from the environment (it has no row). */
export const ENV_TOKEN_ID = 'env:CLEARANCE_ADMIN_TOKEN';
/** The name the environment's token goes by (it has no row to hold one). */
export const ENV_TOKEN_NAME = 'CLEARANCE_ADMIN_TOKEN';

export interface Principal {
  tokenId: string;
  scopes: readonly Scope[];
  /** When the token stops working; null when it does not expire. */
  expiresAt: Date | null;
}

// One call, not createHash().update().digest(): no Hash object a request (1.1 against 1.6 µs).
export const hashSecret = (secret: string): Buffer => hash('sha256', secret, 'buffer');

export function generateToken(): { id: string; secret: string; token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `clr_${id}_${secret}` };
}

/** Checks a presented token; null when unknown, wrong, revoked or expired. */
export class TokenVerifier {
  readonly #load: (id: string) => Promise<ApiToken | null>;
  readonly #envTokenHash: Buffer | null;
  /** Whether the environment token has the shape of an issued token (then both must be tried). */
  readonly #envTokenIssuedShape: boolean;

  /** load reads a token row by id (through the cache); it throws when the database is unavailable. */
  constructor(envAdminToken: string | null, load: (id: string) => Promise<ApiToken | null>) {
    this.#load = load;
    this.#envTokenHash = envAdminToken === null ? null : hashSecret(envAdminToken);
    this.#envTokenIssuedShape = envAdminToken !== null && TOKEN_PATTERN.test(envAdminToken);
  }

  async verify(presented: string, now = new Date()): Promise<Principal | null> {
    const match = TOKEN_PATTERN.exec(presented);
    // An issued token cannot equal an environment token of another shape, so it skips that hash
    // (a twentieth of a decision's CPU); what this tells a caller is the shape, which is public.
    if (
      this.#envTokenHash !== null &&
      (match === null || this.#envTokenIssuedShape) &&
      timingSafeEqual(hashSecret(presented), this.#envTokenHash)
    ) {
      return { tokenId: ENV_TOKEN_ID, scopes: ALL_SCOPES, expiresAt: null };
    }
    if (match === null) return null;
    const [, id, secret] = match as unknown as [string, string, string];
    const row = await this.#load(id);
    if (row === null) return null;
    if (!timingSafeEqual(hashSecret(secret), row.secret_hash)) return null;
    if (row.revoked_at !== null) return null;
    const expiresAt = row.expires_at === null ? null : new Date(row.expires_at);
    if (expiresAt !== null && expiresAt <= now) return null;
    return { tokenId: row.id, scopes: row.scopes, expiresAt };
  }
}

/**
 * On first start with no admin token configured, makes the bootstrap token (every scope) and
 * returns it so it can be shown once; otherwise returns null. A revoked bootstrap token is not
 * replaced on the next start: set CLEARANCE_ADMIN_TOKEN to get back in.
 */
export async function ensureBootstrapToken(db: Kysely<Database>, envAdminToken: string | null): Promise<string | null> {
  if (envAdminToken !== null) return null;
  // Workers starting together: one makes the token, the others then find it.
  return db.transaction().execute(async (trx) => {
    await lockBootstrapToken(trx);
    if (await hasBootstrapToken(trx)) return null;
    const { id, secret, token } = generateToken();
    await insertToken(trx, {
      id,
      name: 'bootstrap admin token',
      secretHash: hashSecret(secret),
      scopes: [...ALL_SCOPES],
      bootstrap: true,
    });
    return token;
  });
}

/** A token as listed: never its secret or hash. */
export interface TokenView {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  bootstrap: boolean;
}

const iso = (t: Date | string | null): string | null => (t === null ? null : new Date(t).toISOString());

export const tokenView = (row: ApiToken): TokenView => ({
  id: row.id,
  name: row.name,
  scopes: row.scopes,
  created_at: iso(row.created_at) as string,
  expires_at: iso(row.expires_at),
  revoked_at: iso(row.revoked_at),
  bootstrap: row.bootstrap,
});

const tokenEntry = (before: TokenView | null, after: TokenView): AuditDraft => ({
  account_id: null,
  record_type: 'token',
  record_id: after.id,
  user_id: null,
  client_id: null,
  change: before === null ? 'create' : 'update',
  before,
  after,
});

const tokenNotFound = (id: string) => notFound('token_not_found', `token "${id}" does not exist`);

/** Whether the caller holds every one of the scopes (whatever scopes there are). */
const holds = (caller: Principal, scopes: readonly Scope[]) => scopes.every((scope) => caller.scopes.includes(scope));

const grantExceeds = (field: string, message: string) =>
  new AppError(403, 'grant_exceeds_own_token', message, { details: { field } });

/** Refuses a new token that would hold more than its maker: a scope it lacks, or a longer life. */
function checkGrant(caller: Principal, scopes: readonly Scope[], expiresAt: Date | null): void {
  const missing = scopes.findIndex((scope) => !caller.scopes.includes(scope));
  if (missing !== -1) {
    throw grantExceeds(
      `scopes[${missing}]`,
      `this token cannot grant the "${scopes[missing]}" scope: it does not hold it`,
    );
  }
  if (caller.expiresAt !== null && (expiresAt === null || expiresAt > caller.expiresAt)) {
    throw grantExceeds(
      'expires_at',
      `this token expires at ${caller.expiresAt.toISOString()}; a token it makes must expire by then (give expires_at)`,
    );
  }
}

/** Creating, listing and revoking API tokens; creation and revocation are in the audit trail. */
export class TokenService {
  readonly #db: Kysely<Database>;
  readonly #writer: AuditedWriter;

  constructor(db: Kysely<Database>, writer: AuditedWriter) {
    this.#db = db;
    this.#writer = writer;
  }

  /**
   * Makes a token (no more than the caller holds); the returned `token` is the only time its
   * secret is shown. The actor is the caller as the audit trail records it (and hears the commit).
   */
  create(
    caller: Principal,
    actor: Actor,
    input: { name: string; scopes: Scope[]; expires_at?: string },
    now = new Date(),
  ): Promise<Pick<TokenView, 'id' | 'name' | 'scopes' | 'created_at' | 'expires_at'> & { token: string }> {
    const expiresAt = input.expires_at === undefined ? null : new Date(input.expires_at);
    if (expiresAt !== null && expiresAt <= now)
      throw badRequest('invalid_request', 'expires_at must be in the future', { field: 'expires_at' });
    checkGrant(caller, input.scopes, expiresAt);
    return this.#writer.write(actor, async (trx, changes) => {
      const { id, secret, token } = generateToken();
      const row = await insertToken(trx, {
        id,
        name: input.name,
        secretHash: hashSecret(secret),
        scopes: input.scopes,
        expiresAt,
      });
      const view = tokenView(row);
      changes.push(tokenEntry(null, view));
      return {
        id: view.id,
        name: view.name,
        scopes: view.scopes,
        created_at: view.created_at,
        expires_at: view.expires_at,
        token,
      };
    });
  }

  /** The caller's own token: id, name, scopes and expiry (the environment's token has no row). */
  async self(caller: Principal): Promise<{ id: string; name: string; scopes: Scope[]; expires_at: string | null }> {
    if (caller.tokenId === ENV_TOKEN_ID) {
      return { id: ENV_TOKEN_ID, name: ENV_TOKEN_NAME, scopes: [...caller.scopes], expires_at: null };
    }
    const row = await findToken(this.#db, caller.tokenId);
    if (row === undefined) throw tokenNotFound(caller.tokenId);
    return { id: row.id, name: row.name, scopes: row.scopes, expires_at: iso(row.expires_at) };
  }

  /** The tokens the caller may see: those with no scope it lacks. */
  async list(caller: Principal): Promise<TokenView[]> {
    return (await listTokens(this.#db)).filter((row) => holds(caller, row.scopes)).map(tokenView);
  }

  /** A token with a scope the caller lacks is, to the caller, not there. */
  async get(caller: Principal, id: string): Promise<TokenView> {
    const row = await findToken(this.#db, id);
    if (row === undefined || !holds(caller, row.scopes)) throw tokenNotFound(id);
    return tokenView(row);
  }

  /**
   * Revokes the token at once (in this process before the answer; elsewhere through the change
   * feed), unless it has a scope the caller lacks (then 404, as for get). Revoking twice is a no-op.
   */
  revoke(caller: Principal, actor: Actor, id: string): Promise<void> {
    return this.#writer.write(actor, async (trx, changes) => {
      const row = await findToken(trx, id);
      if (row === undefined || !holds(caller, row.scopes)) throw tokenNotFound(id);
      const revoked = await revokeToken(trx, id);
      if (revoked !== undefined) changes.push(tokenEntry(tokenView(revoked.before), tokenView(revoked.after)));
    });
  }
}
