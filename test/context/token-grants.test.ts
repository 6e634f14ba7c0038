// A token passes on no more than it holds (SPEC §3): it grants only scopes it has, for no longer
// than it lives, and sees and revokes only tokens none of whose scopes it lacks. The bootstrap
// token holds every scope.
import t from 'tap';
import { api, auditRows, contextApp, errorOf } from '../helpers/context.ts';

t.test('given no admin token in the environment, the bootstrap token made at first start', async (t) => {
  let bootstrap = '';
  const { app, database } = await contextApp(t, {
    config: { adminToken: null },
    onBootstrapToken: (token) => (bootstrap = token),
  });
  const root = api(app, bootstrap);
  const make = async (scopes: string[], by = root, expiresAt?: string) => {
    const response = await by.post('/v1/tokens', {
      name: `holds ${scopes.join('+')}`,
      scopes,
      ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
    });
    return response;
  };
  const tokenCount = async () => (await database.db.selectFrom('api_tokens').select('id').execute()).length;
  const created = async (response: Awaited<ReturnType<typeof make>>) => {
    if (response.statusCode !== 201) throw new Error(`expected 201: ${response.statusCode} ${response.body}`);
    return response.json() as { id: string; token: string; scopes: string[] };
  };
  const adminOnly = await created(await make(['admin']));
  const asAdmin = api(app, adminOnly.token);

  t.test(
    'when an admin-only token asks for a token with decide, admin and logs, then 403 names the first scope it lacks and nothing is made',
    async (t) => {
      const tokens = await tokenCount();
      const audit = (await auditRows(database.db)).length;
      const response = await make(['admin', 'decide', 'logs'], asAdmin);
      t.equal(response.statusCode, 403);
      t.match(errorOf(response), {
        code: 'grant_exceeds_own_token',
        message: /cannot grant the "decide" scope: it does not hold it/,
        details: { field: 'scopes[1]' },
      });
      t.equal(await tokenCount(), tokens, 'no token made');
      t.equal((await auditRows(database.db)).length, audit, 'no audit entry');
      t.equal(errorOf(await make(['logs'], asAdmin)).code, 'grant_exceeds_own_token', 'logs alone neither');
    },
  );

  t.test('when a token grants scopes it holds, then the new token is made', async (t) => {
    t.same((await created(await make(['admin'], asAdmin))).scopes, ['admin']);
    const adminDecide = await created(await make(['admin', 'decide']));
    t.same((await created(await make(['decide'], api(app, adminDecide.token)))).scopes, ['decide'], 'a subset');
  });

  t.test('when the bootstrap token grants, then it may grant every scope', async (t) => {
    t.same((await created(await make(['decide', 'admin', 'logs']))).scopes, ['decide', 'admin', 'logs']);
  });

  t.test(
    'when an admin-only token lists, reads or revokes tokens, then those with a scope it lacks are not there to it',
    async (t) => {
      const listed = (await asAdmin.get('/v1/tokens')).json().tokens as Array<{
        id: string;
        scopes: string[];
        bootstrap: boolean;
      }>;
      t.ok(
        listed.length > 0 && listed.every((token) => token.scopes.every((scope) => scope === 'admin')),
        'only admin-only tokens listed',
      );
      t.notOk(
        listed.some((token) => token.bootstrap),
        'not the bootstrap token',
      );
      const everything = (await root.get('/v1/tokens')).json().tokens as Array<{ id: string; bootstrap: boolean }>;
      const bootstrapId = everything.find((token) => token.bootstrap)?.id as string;
      t.ok(everything.length > listed.length, 'the bootstrap token sees them all');

      t.equal(errorOf(await asAdmin.get(`/v1/tokens/${bootstrapId}`)).code, 'token_not_found');
      const audit = (await auditRows(database.db)).length;
      const revoke = await asAdmin.del(`/v1/tokens/${bootstrapId}`);
      t.equal(revoke.statusCode, 404);
      t.equal(errorOf(revoke).code, 'token_not_found');
      t.equal((await root.get('/v1/accounts')).statusCode, 200, 'the bootstrap token still works');
      t.equal((await auditRows(database.db)).length, audit, 'nothing recorded');
    },
  );

  t.test('when a token revokes one within its scopes, then it is revoked', async (t) => {
    const victim = await created(await make(['admin'], asAdmin));
    t.equal((await asAdmin.get(`/v1/tokens/${victim.id}`)).statusCode, 200);
    t.equal((await asAdmin.del(`/v1/tokens/${victim.id}`)).statusCode, 204);
    t.equal((await api(app, victim.token).get('/v1/accounts')).statusCode, 401);
  });

  t.test('when a token that expires grants, then the new token must expire no later than it', async (t) => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const expiring = await created(await make(['admin', 'decide'], root, expiresAt.toISOString()));
    const asExpiring = api(app, expiring.token);
    const forever = await make(['decide'], asExpiring);
    t.equal(forever.statusCode, 403);
    t.match(errorOf(forever), { code: 'grant_exceeds_own_token', details: { field: 'expires_at' } });
    const later = await make(['decide'], asExpiring, new Date(expiresAt.getTime() + 1000).toISOString());
    t.match(errorOf(later), { code: 'grant_exceeds_own_token', details: { field: 'expires_at' } });
    t.equal(
      (await make(['decide'], asExpiring, new Date(expiresAt.getTime() - 1000).toISOString())).statusCode,
      201,
      'earlier is fine',
    );
  });
});

t.test('given the admin token from the environment, when it grants, then it holds every scope too', async (t) => {
  const { admin } = await contextApp(t);
  const response = await admin.post('/v1/tokens', { name: 'all', scopes: ['decide', 'admin', 'logs'] });
  t.equal(response.statusCode, 201);
});
