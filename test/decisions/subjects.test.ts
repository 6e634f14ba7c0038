// Who has access (POST /v1/subjects/query): for every resource of a practice and a business, every
// action of its type and some proposed values, the reverse query agrees with /v1/decide asked for
// each user of the account, reasons and their order included; its refusals and its log entry. And
// the forward lists of items and users (POST /v1/resources/query), each user's, likewise.
import t from 'tap';
import { ACTIONS } from '../differential/corpus.ts';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

type Reason = { code: string; message: string };
type Resource = { type: string; id?: string; account_id?: string; attributes?: Record<string, unknown> };

const actionsOf = (type: string) => Object.keys(ACTIONS).filter((action) => ACTIONS[action] === type);

t.test('given the fixture data set', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide', 'logs']);
  const headers = { authorization: `Bearer ${token}` };
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers, payload });
  const { db } = database;

  /** The reverse query, and the same question asked of /v1/decide for each user of the account. */
  async function compare(t: Tap, action: string, resource: Resource, accountId: string) {
    const response = await post('/v1/subjects/query', { action, resource, include_denied: true });
    const users = await db.selectFrom('users').select('id').where('account_id', '=', accountId).orderBy('id').execute();
    const asked = {
      type: resource.type,
      ...(resource.id ? { id: resource.id } : {}),
      attributes: resource.attributes ?? {},
    };
    const { results } = (
      await post('/v1/decide/batch', {
        requests: users.map((u) => ({ subject: { id: u.id }, action, resource: asked })),
      })
    ).json() as { results: Array<{ allow: boolean; reasons: Reason[] }> };
    const what = `${action} on ${JSON.stringify(resource)}`;
    const refusals = new Set(['unknown_action', 'resource_type_mismatch', 'account_kind_not_supported']);
    const alike = results.every((r) => r.reasons.some((x) => refusals.has(x.code)));
    if (alike && results.length > 0) {
      t.equal(response.statusCode, 400, `${what}: a refusal of the request itself is an error`);
      t.ok(refusals.has(response.json().error.code), `${what}: ${response.json().error.code}`);
      return;
    }
    t.equal(response.statusCode, 200, what);
    const body = response.json() as { allowed: string[]; denied: Array<{ id: string; reasons: Reason[] }> };
    t.same(
      body.allowed,
      users.filter((_, i) => results[i]?.allow).map((u) => u.id),
      `${what}: allowed`,
    );
    t.same(
      body.denied,
      users.flatMap((u, i) => (results[i]?.allow ? [] : [{ id: u.id, reasons: results[i]?.reasons }])),
      `${what}: denied, with the same reasons in the same order`,
    );
  }
  type Tap = typeof t;

  for (const accountId of ['p1', 'b1']) {
    t.test(
      `when every resource of ${accountId} is asked about, then the lists agree with /v1/decide pair by pair`,
      async (t) => {
        const ids = async (table: 'clients' | 'items' | 'users') =>
          (await db.selectFrom(table).select('id').where('account_id', '=', accountId).execute()).map((r) => r.id);
        const resources: Resource[] = [
          { type: 'account', id: accountId },
          ...(await ids('clients')).map((id) => ({ type: 'client', id })),
          ...(await ids('items')).map((id) => ({ type: 'item', id })),
          ...(await ids('users')).map((id) => ({ type: 'user', id })),
        ];
        for (const resource of resources) {
          for (const action of actionsOf(resource.type)) {
            if (action === 'user.create') continue;
            await compare(t, action, resource, accountId);
          }
        }
        await compare(
          t,
          'user.create',
          { type: 'user', account_id: accountId, attributes: { role: 'standard' } },
          accountId,
        );
      },
    );
  }

  for (const accountId of ['p1', 'b1']) {
    t.test(`when each user of ${accountId} lists items and users, then the lists agree with /v1/decide`, async (t) => {
      const users = await db
        .selectFrom('users')
        .select('id')
        .where('account_id', '=', accountId)
        .orderBy('id')
        .execute();
      for (const type of ['item', 'user'] as const) {
        const resources = (
          await db
            .selectFrom(type === 'item' ? 'items' : 'users')
            .select('id')
            .where('account_id', '=', accountId)
            .orderBy('id')
            .execute()
        ).map((r) => r.id);
        for (const { id: subject } of users) {
          for (const action of actionsOf(type)) {
            if (action === 'user.create') continue;
            const listed = await post('/v1/resources/query', {
              subject: { id: subject },
              action,
              resource_type: type,
              include_denied: true,
            });
            const what = `${subject} ${action} over every ${type}`;
            t.equal(listed.statusCode, 200, what);
            const { results } = (
              await post('/v1/decide/batch', {
                requests: resources.map((id) => ({ subject: { id: subject }, action, resource: { type, id } })),
              })
            ).json() as { results: Array<{ allow: boolean; reasons: Reason[] }> };
            const body = listed.json();
            t.same(
              body.allowed,
              resources.filter((_, i) => results[i]?.allow),
              `${what}: allowed`,
            );
            t.same(
              body.denied,
              resources.flatMap((id, i) => (results[i]?.allow ? [] : [{ id, reasons: results[i]?.reasons }])),
              `${what}: denied, with the same reasons`,
            );
          }
        }
      }
    });
  }

  t.test('when an unknown subject lists items, then nothing is listed', async (t) => {
    const body = (
      await post('/v1/resources/query', {
        subject: { id: 'ghost' },
        action: 'item.view',
        resource_type: 'item',
        include_denied: true,
      })
    ).json();
    t.same({ allowed: body.allowed, denied: body.denied }, { allowed: [], denied: [] });
  });

  t.test('when proposed values are judged, then each user is judged with their own access', async (t) => {
    for (const client of ['c_xero', 'c_myob', 'c_qb', 'nowhere']) {
      await compare(
        t,
        'user.client_access.edit',
        { type: 'user', id: 'std_all', attributes: { client_id: client } },
        'p1',
      );
    }
    for (const attributes of [
      { role: 'client_admin' },
      { client_access_mode: 'all' },
      { permissions: { publishing: 'all' } },
    ]) {
      await compare(t, 'user.update', { type: 'user', id: 'std_sel', attributes }, 'p1');
    }
  });

  t.test('when the request cannot be answered, then it is refused, not answered with nobody', async (t) => {
    const refused = async (body: object, status: number, code: string) => {
      const response = await post('/v1/subjects/query', body);
      t.equal(response.statusCode, status, JSON.stringify(body));
      t.equal(response.json().error.code, code);
    };
    await refused({ action: 'client.view', resource: { type: 'client', id: 'nowhere' } }, 404, 'resource_not_found');
    await refused({ action: 'item.view', resource: { type: 'item', id: 'nowhere' } }, 404, 'resource_not_found');
    await refused({ action: 'no.such.action', resource: { type: 'client', id: 'c_xero' } }, 400, 'unknown_action');
    const named = await post('/v1/subjects/query', {
      action: 'no.such.action',
      resource: { type: 'client', id: 'c_xero' },
    });
    t.match(
      named.json().error.details,
      { field: 'action', decision_id: String },
      'the refusal names the field and its logged decision',
    );
    await refused({ action: 'item.view', resource: { type: 'client', id: 'c_xero' } }, 400, 'resource_type_mismatch');
    await refused({ action: 'client.view', resource: { type: 'account', id: 'b1' } }, 400, 'resource_type_mismatch');
    await refused(
      { action: 'insights.view', resource: { type: 'account', id: 'b1' } },
      400,
      'account_kind_not_supported',
    );
    await refused({ action: 'user.create', resource: { type: 'user' } }, 400, 'invalid_request');
    await refused(
      { action: 'user.create', resource: { type: 'user', account_id: 'nowhere' } },
      404,
      'account_not_found',
    );
    await refused({ action: 'client.view', resource: { type: 'client' }, extra: 1 }, 400, 'invalid_request');
  });

  t.test('when a reverse query is answered, then one log entry holds every user outcome', async (t) => {
    const answer = (
      await post('/v1/subjects/query', { action: 'client.view', resource: { type: 'client', id: 'c_xero' } })
    ).json();
    await logWritten(app);
    const entry = (await app.inject({ url: `/v1/decisions/${answer.decision_id}`, headers })).json();
    t.match(entry, {
      endpoint: 'subjects',
      subject: null,
      action: 'client.view',
      resource: { type: 'client', id: 'c_xero' },
      allow: null,
      result: { allowed: answer.allowed },
    });
    t.equal(entry.result.allowed.length + entry.result.denied.length, 10, 'every user of p1, asked for or not');
    t.ok(entry.result.denied.every((d: { codes: string[] }) => d.codes.length > 0));
    t.notOk('name' in entry.input.account, "the account's name is masked");
    t.equal(entry.input.subjects.length, 10);
    const listed = await app.inject({ url: '/v1/decisions?action=client.view&limit=100', headers });
    t.ok(listed.json().decisions.some((d: { decision_id: string }) => d.decision_id === answer.decision_id));
  });
});
