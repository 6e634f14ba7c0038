// The token check on its own: the environment's admin token, in either shape, beside issued tokens
// read from their (hashed) rows; wrong, revoked and expired tokens are refused.
import t from 'tap';
import type { ApiToken } from '../../service/data/schema.ts';
import { ENV_TOKEN_ID, generateToken, hashSecret, TokenVerifier } from '../../service/domain/tokens.ts';

function issued(overrides: Partial<ApiToken> = {}): { token: string; row: ApiToken } {
  const { id, secret, token } = generateToken();
  const row = {
    id,
    name: 'issued',
    secret_hash: hashSecret(secret),
    scopes: ['decide'],
    bootstrap: false,
    created_at: new Date(),
    expires_at: null,
    revoked_at: null,
    ...overrides,
  } as ApiToken;
  return { token, row };
}

const verifierWith = (envToken: string | null, rows: ApiToken[]) =>
  new TokenVerifier(envToken, async (id) => rows.find((r) => r.id === id) ?? null);

t.test('given an environment token of any shape and an issued token, then each is known for what it is', async (t) => {
  const app = issued();
  for (const envToken of ['a-plain-admin-token-of-mine', generateToken().token]) {
    const verifier = verifierWith(envToken, [app.row]);
    t.same(
      await verifier.verify(envToken),
      { tokenId: ENV_TOKEN_ID, scopes: ['decide', 'admin', 'logs', 'policy'], expiresAt: null },
      `env token ${envToken.slice(0, 4)}…`,
    );
    t.same(
      await verifier.verify(app.token),
      { tokenId: app.row.id, scopes: ['decide'], expiresAt: null },
      'issued token beside it',
    );
    t.equal(await verifier.verify(`${envToken}x`), null, 'one character more is refused');
  }
});

t.test('given an issued token, then a wrong secret, a revocation or an expiry refuses it', async (t) => {
  const live = issued();
  const revoked = issued({ revoked_at: new Date() });
  const expired = issued({ expires_at: new Date(Date.now() - 1000) });
  const verifier = verifierWith(null, [live.row, revoked.row, expired.row]);
  const wrongSecret = `${live.token.slice(0, -1)}${live.token.endsWith('A') ? 'B' : 'A'}`;
  t.equal(await verifier.verify(wrongSecret), null, 'wrong secret');
  t.equal(await verifier.verify(revoked.token), null, 'revoked');
  t.equal(await verifier.verify(expired.token), null, 'expired');
  t.equal(await verifier.verify(generateToken().token), null, 'unknown id');
  t.not(await verifier.verify(live.token), null, 'the live one still works');
});
