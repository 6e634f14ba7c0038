// API tokens: created with chosen scopes and an optional expiry, shown once, stored hashed,
// refused the moment they are revoked or expire; the bootstrap token works as SPEC §3 says.
import { createHash } from 'node:crypto';
import t from 'tap';
import { sql } from 'kysely';
import { ADMIN_TOKEN, api, auditRows, contextApp, errorOf, warm } from '../helpers/context.ts';
import { eventually } from '../helpers/app.ts';
import { until } from '../helpers/wait.ts';
import { makeToken } from '../helpers/fixtures.ts';

const decideBody = { subject: { id: 'nobody' }, action: 'client.view', resource: { type: 'client', id: 'none' } };

t.test('given the context API with the admin token from the environment', async (t) => {
  // No change notifications arrive: a revocation must take effect through the API's own invalidation.
  const { app, database, admin } = await contextApp(t, { silentFeed: true });
  const db = database.db;
  const decideWith = (token: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/decide',
      headers: { authorization: `Bearer ${token}` },
      payload: decideBody,
    });

  let created: {
    id: string;
    name: string;
    scopes: string[];
    created_at: string;
    expires_at: string | null;
    token: string;
  };

  t.test('when a token is created, then 201 shows it once, and only its hash is stored', async (t) => {
    const response = await admin.post('/v1/tokens', { name: 'billing app', scopes: ['decide'] });
    t.equal(response.statusCode, 201);
    created = response.json();
    t.match(created, {
      id: /^[a-f0-9]{16}$/,
      name: 'billing app',
      scopes: ['decide'],
      created_at: String,
      expires_at: null,
      token: /^clr_[a-f0-9]{16}_/,
    });
    t.equal(created.token.split('_')[1], created.id);
    const read = (await admin.get(`/v1/tokens/${created.id}`)).json();
    t.same(read, {
      id: created.id,
      name: 'billing app',
      scopes: ['decide'],
      created_at: created.created_at,
      expires_at: null,
      revoked_at: null,
      bootstrap: false,
    });
    const listed = (await admin.get('/v1/tokens')).json().tokens as Array<{ id: string }>;
    t.ok(listed.some((x) => x.id === created.id));
    t.notMatch(
      (await admin.get('/v1/tokens')).body,
      created.token.split('_').slice(2).join('_'),
      'the secret is never listed',
    );
    const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    const secret = created.token.split('_').slice(2).join('_');
    t.same(Buffer.from(row.secret_hash), createHash('sha256').update(secret).digest(), 'the SHA-256 of the secret');
    const stored = Object.values(row)
      .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : JSON.stringify(v)))
      .join('\n');
    t.notOk(stored.includes(secret), 'no secret in any column');
  });

  t.test('when the new token is used within its scope, then it works; outside it, 403', async (t) => {
    t.equal((await decideWith(created.token)).statusCode, 200);
    const refused = await api(app, created.token).get('/v1/accounts');
    t.equal(refused.statusCode, 403);
    t.equal(errorOf(refused).code, 'insufficient_scope');
    t.equal((await api(app, created.token).get('/v1/audit')).statusCode, 403);
  });

  t.test(
    'when the token is revoked, then the very next request with it is 401, and it stays listed as revoked',
    async (t) => {
      t.equal(
        (await warm(t, app, () => decideWith(created.token))).statusCode,
        200,
        'works (and is cached) just before',
      );
      const revoked = await admin.del(`/v1/tokens/${created.id}`);
      t.equal(revoked.statusCode, 204);
      const next = await decideWith(created.token);
      t.equal(next.statusCode, 401);
      t.equal(errorOf(next).code, 'invalid_token');
      t.match((await admin.get(`/v1/tokens/${created.id}`)).json(), { revoked_at: String });
      const entries = (await auditRows(db)).length;
      t.equal((await admin.del(`/v1/tokens/${created.id}`)).statusCode, 204, 'revoking twice is a no-op');
      t.equal((await auditRows(db)).length, entries, 'and records nothing');
    },
  );

  t.test(
    'when a token is revoked outside the API (plain SQL), then its cached row is dropped once the change notification arrives',
    async (t) => {
      // A second app whose change feed does deliver, as every replica's does.
      const { app: replica, database: replicaDatabase } = await contextApp(t);
      const token = await makeToken(replicaDatabase.db, ['decide']);
      const ask = () =>
        replica.inject({
          method: 'POST',
          url: '/v1/decide',
          headers: { authorization: `Bearer ${token}` },
          payload: decideBody,
        });
      t.equal((await warm(t, replica, ask)).statusCode, 200);
      await sql`update api_tokens set revoked_at = now() where id = ${token.split('_')[1]}`.execute(replicaDatabase.db);
      t.ok(await eventually(async () => (await ask()).statusCode === 401), 'refused after the notification');
    },
  );

  t.test('when a token expires, then it is refused from that moment even though its row is cached', async (t) => {
    // Far enough ahead that the first requests land before it on a busy machine.
    const expiresAt = new Date(Date.now() + 8000).toISOString();
    const response = await admin.post('/v1/tokens', { name: 'short-lived', scopes: ['decide'], expires_at: expiresAt });
    t.equal(response.statusCode, 201);
    t.equal(response.json().expires_at, expiresAt);
    const token = response.json().token as string;
    t.equal((await warm(t, app, () => decideWith(token))).statusCode, 200, 'works, its row cached');
    // Asked again and again until refused: every answer before is a 200 to a request sent before
    // the expiry, and the refusal comes to one answered after it.
    const expiry = Date.parse(expiresAt);
    const lateAllows: number[] = [];
    const refused: Array<{ statusCode: number; code: string; answeredAt: number }> = [];
    await until(
      async () => {
        const sentAt = Date.now();
        const answer = await decideWith(token);
        if (answer.statusCode !== 200)
          refused.push({ statusCode: answer.statusCode, code: errorOf(answer).code, answeredAt: Date.now() });
        else if (sentAt >= expiry) lateAllows.push(sentAt - expiry);
        return refused.length > 0;
      },
      'the token to be refused',
      60_000,
    );
    t.same(lateAllows, [], 'no request sent after the expiry was allowed');
    t.match(refused[0], { statusCode: 401, code: 'invalid_token' });
    t.ok((refused[0]?.answeredAt ?? 0) >= expiry, 'refused only once expired');
  });

  const refusals: Array<[string, unknown, string]> = [
    ['expires_at is in the past', { name: 'x', scopes: ['decide'], expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
    ['expires_at is not a date-time', { name: 'x', scopes: ['decide'], expires_at: 'tomorrow' }, 'expires_at'],
    ['no scope is given', { name: 'x', scopes: [] }, 'scopes'],
    ['a scope is repeated', { name: 'x', scopes: ['decide', 'decide'] }, 'scopes'],
    ['a scope is unknown', { name: 'x', scopes: ['root'] }, 'scopes[0]'],
    ['the name is missing', { scopes: ['decide'] }, 'name'],
  ];
  for (const [when, body, field] of refusals) {
    t.test(`when ${when}, then 400 names ${field} and no token is made`, async (t) => {
      const count = (await db.selectFrom('api_tokens').select('id').execute()).length;
      const response = await admin.post('/v1/tokens', body);
      t.equal(response.statusCode, 400);
      t.equal(errorOf(response).details?.field, field);
      t.equal((await db.selectFrom('api_tokens').select('id').execute()).length, count);
    });
  }

  t.test('when an unknown or malformed token id is read or revoked, then 404 or 400', async (t) => {
    t.equal(errorOf(await admin.get('/v1/tokens/0000000000000000')).code, 'token_not_found');
    t.equal((await admin.del('/v1/tokens/0000000000000000')).statusCode, 404);
    const malformed = await admin.del('/v1/tokens/not-a-token-id');
    t.equal(malformed.statusCode, 400);
    t.equal(errorOf(malformed).details?.field, 'tokenId');
  });

  t.test('when tokens are managed without the admin scope, then 403', async (t) => {
    const logs = (await admin.post('/v1/tokens', { name: 'ops', scopes: ['logs', 'decide'] })).json().token as string;
    t.equal((await api(app, logs).post('/v1/tokens', { name: 'escalate', scopes: ['admin'] })).statusCode, 403);
    t.equal((await api(app, logs).get('/v1/tokens')).statusCode, 403);
  });

  t.test('when tokens are created and revoked, then the audit records who did it, without any secret', async (t) => {
    const maker = (await admin.post('/v1/tokens', { name: 'token maker', scopes: ['admin', 'decide'] })).json() as {
      id: string;
      token: string;
    };
    const made = (
      await api(app, maker.token).post('/v1/tokens', { name: 'made by maker', scopes: ['decide'] })
    ).json() as { id: string; token: string };
    await api(app, maker.token).del(`/v1/tokens/${made.id}`);
    const entries = (await admin.get(`/v1/audit?record_type=token&record_id=${made.id}`)).json().entries as Array<
      Record<string, unknown>
    >;
    t.same(
      entries.map((e) => [e.change, e.token_id]),
      [
        ['update', maker.id],
        ['create', maker.id],
      ],
      'newest first',
    );
    t.match(entries[0], {
      before: { revoked_at: null },
      after: { revoked_at: String, name: 'made by maker', scopes: ['decide'] },
    });
    const text = JSON.stringify(await auditRows(db));
    t.notOk(text.includes(made.token.slice(-43)), 'no secret in the audit');
    t.notOk(text.includes('secret_hash'), 'no hash in the audit');
  });

  t.test(
    'when the environment token is used, then it has every scope and is audited as env:CLEARANCE_ADMIN_TOKEN',
    async (t) => {
      t.equal((await decideWith(ADMIN_TOKEN)).statusCode, 200);
      t.equal((await admin.get('/v1/audit')).statusCode, 200);
      await admin.put('/v1/accounts/env-made', { kind: 'business', name: 'Made with the env token' });
      t.equal((await auditRows(db)).at(-1)?.token_id, 'env:CLEARANCE_ADMIN_TOKEN');
    },
  );
});

t.test(
  'given no admin token in the environment, when the service first starts, then it makes a bootstrap token once',
  async (t) => {
    let bootstrap: string | null = null;
    const { app, database } = await contextApp(t, {
      config: { adminToken: null },
      onBootstrapToken: (token) => (bootstrap = token),
    });
    t.type(bootstrap, 'string', 'shown once, at first start');
    const root = api(app, bootstrap as unknown as string);
    t.equal((await root.get('/v1/accounts')).statusCode, 200, 'admin');
    t.equal((await root.get('/v1/audit')).statusCode, 200, 'logs');
    t.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/decide',
          headers: { authorization: `Bearer ${bootstrap}` },
          payload: decideBody,
        })
      ).statusCode,
      200,
      'decide',
    );
    const listed = (await root.get('/v1/tokens')).json().tokens as Array<{
      id: string;
      bootstrap: boolean;
      scopes: string[];
    }>;
    t.match(listed, [{ bootstrap: true, scopes: ['decide', 'admin', 'logs', 'policy'] }]);

    const { ensureBootstrapToken } = await import('../../service/domain/tokens.ts');
    t.equal(await ensureBootstrapToken(database.db, null), null, 'a restart makes no second one');
    t.equal((await root.del(`/v1/tokens/${listed[0]?.id}`)).statusCode, 204);
    t.equal((await root.get('/v1/accounts')).statusCode, 401, 'revoked at once');
    t.equal(
      await ensureBootstrapToken(database.db, null),
      null,
      'and not replaced on the next start (set CLEARANCE_ADMIN_TOKEN to get back in)',
    );
  },
);
