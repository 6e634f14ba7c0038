// resource.attributes is bounded (32 levels, 64 KiB as JSON, Unicode text) and checked before
// anything is decided: an input beyond it is a bad request naming the field, never a policy fault. A batch
// refuses such an item alone.
import t from 'tap';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

/** Attributes nested `levels` deep, the attributes object being the first level. */
const nested = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i += 1) value = { a: value };
  return value;
};

t.test('given the fixture data set and a token with the decide and logs scopes', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide', 'logs']);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = (url: string, payload: object | string) => app.inject({ method: 'POST', url, headers, payload });
  const decideWith = (attributes: unknown) => ({
    subject: { id: 'pa' },
    action: 'client.view',
    resource: { type: 'client', id: 'c_xero', attributes },
  });
  const policyFaults = async () =>
    (await app.metrics.registry.getSingleMetric('clearance_decisions_total')?.get())?.values
      .filter((v) => v.labels.outcome === 'error')
      .reduce((sum, v) => sum + v.value, 0) ?? 0;

  t.test(
    'when attributes are nested 5,000 levels deep, then 400 names the field instead of a policy fault',
    async (t) => {
      const deep = `{"subject":{"id":"pa"},"action":"client.view","resource":{"type":"client","id":"c_xero","attributes":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}}`;
      const response = await post('/v1/decide', deep);
      t.equal(response.statusCode, 400, response.body.slice(0, 300));
      t.match(response.json().error, { code: 'invalid_request', details: { field: /^resource\.attributes\.a\[0\]/ } });
      t.equal(await policyFaults(), 0, 'not counted as a failure to decide');
    },
  );

  t.test(
    'when attributes are 33 levels deep, then 400 invalid_request names resource.attributes; at 32 they are decided',
    async (t) => {
      const refused = await post('/v1/decide', decideWith(nested(33)));
      t.equal(refused.statusCode, 400);
      t.match(refused.json().error, {
        code: 'invalid_request',
        message: 'resource.attributes is nested deeper than 32 levels',
        details: { field: 'resource.attributes' },
      });
      const decided = await post('/v1/decide', decideWith(nested(32)));
      t.equal(decided.statusCode, 200, decided.body);
      t.equal(decided.json().allow, true);
    },
  );

  t.test(
    'when attributes are over 64 KiB as JSON, then 400 names resource.attributes; at 64 KiB they are decided',
    async (t) => {
      const overhead = JSON.stringify({ blob: '' }).length;
      const refused = await post('/v1/decide', decideWith({ blob: 'x'.repeat(65_536 - overhead + 1) }));
      t.equal(refused.statusCode, 400);
      t.match(refused.json().error, {
        code: 'invalid_request',
        message: /^resource\.attributes is 65537 bytes as JSON, over the 65536 allowed$/,
        details: { field: 'resource.attributes' },
      });
      t.equal((await post('/v1/decide', decideWith({ blob: 'x'.repeat(65_536 - overhead) }))).statusCode, 200);
      t.equal(
        (await post('/v1/decide', decideWith({ blob: 'é'.repeat(40_000) }))).statusCode,
        400,
        'bytes, not characters',
      );
    },
  );

  t.test(
    'when attributes hold an unpaired surrogate, then 400 names resource.attributes instead of a policy fault',
    async (t) => {
      for (const attributes of [{ role: 'x\ud800' }, { 'k\udc00': 1 }, { list: [{ deep: '\ud83d' }] }]) {
        const response = await post('/v1/decide', decideWith(attributes));
        t.equal(response.statusCode, 400, response.body);
        t.match(response.json().error, {
          code: 'invalid_request',
          message: 'resource.attributes holds an unpaired UTF-16 surrogate (not Unicode text)',
          details: { field: 'resource.attributes' },
        });
      }
      t.equal(
        (await post('/v1/decide', decideWith({ role: 'ok 😀' }))).statusCode,
        200,
        'a pair is text like any other',
      );
      t.equal(await policyFaults(), 0);
    },
  );

  t.test(
    'when an attribute the input builder looks up holds a NUL, then it is decided as not found, not refused as a database fault',
    async (t) => {
      const response = await post('/v1/decide', {
        subject: { id: 'pa' },
        action: 'user.client_access.edit',
        resource: { type: 'user', id: 'std_sel', attributes: { client_id: 'c_xero\u0000' } },
      });
      t.equal(response.statusCode, 200, response.body);
      t.equal(response.json().allow, false);
    },
  );

  t.test('when the OPA path gets attributes out of bounds, then 400 names input.resource.attributes', async (t) => {
    const response = await post('/v1/data/clearance/decision', { input: decideWith(nested(40)) });
    t.equal(response.statusCode, 400);
    t.match(response.json().error, { code: 'invalid_request', details: { field: 'input.resource.attributes' } });
  });

  t.test(
    'when one batch item has attributes out of bounds, then that item alone is refused, naming it, and logged',
    async (t) => {
      const requests = [
        decideWith({ role: 'standard' }),
        decideWith(nested(40)),
        { subject: { id: 'std_sel' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } },
      ];
      const response = await post('/v1/decide/batch', { requests });
      t.equal(response.statusCode, 200, response.body);
      const [first, second, third] = response.json().results;
      t.match(first, { allow: true });
      t.match(second, {
        allow: false,
        reasons: [{ code: 'invalid_request' }],
        error: {
          code: 'invalid_request',
          message: 'requests[1].resource.attributes is nested deeper than 32 levels',
          details: { field: 'requests[1].resource.attributes' },
        },
      });
      t.match(third, { allow: true, reasons: [{ code: 'client_allocated' }] }, 'decided as usual');
      await logWritten(app);
      const logged = await app.inject({ method: 'GET', url: `/v1/decisions/${second.decision_id}`, headers });
      t.match(logged.json(), {
        endpoint: 'batch',
        allow: false,
        input: null,
        reason_codes: ['invalid_request'],
        error: { code: 'invalid_request' },
      });
      t.equal(await policyFaults(), 1, 'the one item refused, no policy fault beside it');
    },
  );

  t.test('when a list query carries deep junk, then 400 names where, and nothing is evaluated', async (t) => {
    const body = `{"subject":{"id":"pa"},"action":"client.view","resource_type":"client","include_denied":${'['.repeat(100)}${']'.repeat(100)}}`;
    const response = await post('/v1/resources/query', body);
    t.equal(response.statusCode, 400);
    t.match(response.json().error, { code: 'invalid_request', details: { field: /^include_denied\[0\]/ } });
  });
});
