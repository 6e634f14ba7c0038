// A token asking about itself (GET /v1/tokens/self, any valid token), and the decision log naming
// the token that asked (token_name), so a logs token shows who asked without the admin scope.
import t from 'tap';
import { logWritten } from '../helpers/app.ts';
import { api, contextApp } from '../helpers/context.ts';

t.test('given an environment token and issued tokens of one scope each', async (t) => {
  const { app, admin } = await contextApp(t);
  const issue = async (name: string, scopes: string[]) => {
    const created = await admin.post('/v1/tokens', { name, scopes });
    t.equal(created.statusCode, 201, created.body);
    return created.json() as { id: string; token: string };
  };
  const checkout = await issue('checkout-service', ['decide']);
  const auditor = await issue('auditor', ['logs']);

  t.test('when each asks who it is, then it is told its id, name and scopes, whatever they are', async (t) => {
    t.same((await admin.get('/v1/tokens/self')).json(), {
      id: 'env:CLEARANCE_ADMIN_TOKEN',
      name: 'CLEARANCE_ADMIN_TOKEN',
      scopes: ['decide', 'admin', 'logs', 'policy'],
      expires_at: null,
    });
    const self = await api(app, checkout.token).get('/v1/tokens/self');
    t.equal(self.statusCode, 200, 'a decide token needs no admin scope to ask');
    t.same(self.json(), { id: checkout.id, name: 'checkout-service', scopes: ['decide'], expires_at: null });
  });

  t.test('when a token is unknown, missing or revoked, then 401', async (t) => {
    t.equal((await api(app, 'clr_0000000000000000_nope').get('/v1/tokens/self')).statusCode, 401);
    t.equal((await app.inject({ method: 'GET', url: '/v1/tokens/self' })).statusCode, 401);
    const gone = await issue('gone', ['decide']);
    t.equal((await admin.del(`/v1/tokens/${gone.id}`)).statusCode, 204);
    t.equal((await api(app, gone.token).get('/v1/tokens/self')).statusCode, 401);
  });

  t.test('when decisions are asked, then their entries name the token that asked, to a logs token', async (t) => {
    const question = { subject: { id: 'nobody' }, action: 'client.view', resource: { type: 'client', id: 'x' } };
    const byService = (await api(app, checkout.token).post('/v1/decide', question)).json().decision_id as string;
    const byEnv = (await admin.post('/v1/decide', question)).json().decision_id as string;
    await logWritten(app);
    const reader = api(app, auditor.token);
    const listed = (await reader.get('/v1/decisions?limit=10')).json().decisions as Array<{
      decision_id: string;
      token_id: string;
      token_name: string | null;
    }>;
    const named = new Map(listed.map((entry) => [entry.decision_id, entry.token_name]));
    t.equal(named.get(byService), 'checkout-service');
    t.equal(named.get(byEnv), 'CLEARANCE_ADMIN_TOKEN');
    t.match((await reader.get(`/v1/decisions/${byService}`)).json(), {
      token_id: checkout.id,
      token_name: 'checkout-service',
    });
  });
});
