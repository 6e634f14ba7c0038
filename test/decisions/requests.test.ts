// Bad input and authentication: 4xx with {"error": {"code", "message"}} naming the field.
import t from 'tap';
import { buildTestApp } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

t.test('given the fixture data set', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  const good = { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } };
  const decide = (payload: string | object, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
    app.inject({
      method: 'POST',
      url: '/v1/decide',
      headers: { 'content-type': 'application/json', ...headers },
      payload,
    });

  const bad: Array<[string, unknown, string, string]> = [
    ['the subject is missing', { action: 'client.view', resource: good.resource }, 'subject', 'subject is required'],
    [
      'the subject id breaks the id pattern',
      { ...good, subject: { id: 'a b' } },
      'subject.id',
      'subject.id must be an id',
    ],
    ['the action is a number', { ...good, action: 7 }, 'action', 'action must be string'],
    [
      'the resource type is unknown',
      { ...good, resource: { type: 'planet', id: 'x' } },
      'resource.type',
      'resource.type must be equal to one of the allowed values',
    ],
    ['a top-level field is unknown', { ...good, extra: 1 }, 'extra', 'extra is not an accepted field'],
    [
      'the resource id is too long',
      { ...good, resource: { type: 'client', id: 'x'.repeat(129) } },
      'resource.id',
      'resource.id must be an id',
    ],
  ];
  for (const [when, payload, field, message] of bad) {
    t.test(`when ${when}, then 400 names ${field}`, async (t) => {
      const response = await decide(payload as object);
      t.equal(response.statusCode, 400);
      const { error } = response.json();
      t.equal(error.code, 'invalid_request');
      t.equal(error.details.field, field);
      t.match(error.message, message);
    });
  }

  t.test('when resource attributes carry anything, then they are accepted (they stay open)', async (t) => {
    const response = await decide({
      ...good,
      resource: { ...good.resource, attributes: { anything: [1, { x: true }] } },
    });
    t.equal(response.statusCode, 200);
  });

  t.test('when the body is not JSON, then 400 invalid_json', async (t) => {
    const response = await decide('{"subject": ');
    t.equal(response.statusCode, 400);
    t.equal(response.json().error.code, 'invalid_json');
  });

  t.test('when the body is over the size limit, then 413', async (t) => {
    const response = await decide({
      ...good,
      resource: { ...good.resource, attributes: { blob: 'x'.repeat(5 * 1024 * 1024) } },
    });
    t.equal(response.statusCode, 413);
    t.equal(response.json().error.code, 'body_too_large');
  });

  t.test('when no token is sent, then 401', async (t) => {
    const response = await decide(good, {});
    t.equal(response.statusCode, 401);
    t.equal(response.json().error.code, 'unauthenticated');
  });

  t.test('when the token is unknown or its secret is wrong, then 401', async (t) => {
    t.equal((await decide(good, { authorization: 'Bearer nonsense' })).json().error.code, 'invalid_token');
    const forged = `${token.slice(0, -4)}AAAA`;
    const response = await decide(good, { authorization: `Bearer ${forged}` });
    t.equal(response.statusCode, 401);
    t.equal(response.json().error.code, 'invalid_token');
  });

  t.test('when the token has expired, then 401', async (t) => {
    const expired = await makeToken(database.db, ['decide'], { expiresAt: new Date(Date.now() - 1000) });
    t.equal((await decide(good, { authorization: `Bearer ${expired}` })).statusCode, 401);
  });

  t.test('when the token lacks the decide scope, then 403', async (t) => {
    const logsOnly = await makeToken(database.db, ['logs']);
    const response = await decide(good, { authorization: `Bearer ${logsOnly}` });
    t.equal(response.statusCode, 403);
    t.equal(response.json().error.code, 'insufficient_scope');
  });

  t.test('when the bootstrap token from the environment is used, then it has every scope', async (t) => {
    const envToken = 'e'.repeat(32);
    const { app: withEnv } = await buildTestApp(t, { adminToken: envToken });
    const response = await withEnv.inject({
      method: 'POST',
      url: '/v1/decide',
      headers: { authorization: `Bearer ${envToken}` },
      payload: good,
    });
    t.equal(response.statusCode, 200);
  });

  t.test('when a path is unknown, then 404 with the error shape', async (t) => {
    const response = await app.inject({ method: 'GET', url: '/v1/nothing' });
    t.equal(response.statusCode, 404);
    t.equal(response.json().error.code, 'not_found');
  });

  t.test('when /openapi.json is fetched, then it is the document the routes validate with', async (t) => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    t.equal(doc.openapi, '3.1.0');
    t.ok(doc.paths['/v1/decide'].post);
    t.ok(doc.components.schemas.DecideRequest);
  });
});
