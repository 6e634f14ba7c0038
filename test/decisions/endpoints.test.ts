// Batch, list query and the OPA-compatible path, as callers use them.
import t from 'tap';
import { buildTestApp } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

t.test('given the fixture data set', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  const post = (url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: payload as object });

  t.test('when a batch is sent, then each request is answered in order, like /v1/decide', async (t) => {
    const requests = [
      { subject: { id: 'std_sel' }, action: 'client.view', resource: { type: 'client', id: 'c_myob' } },
      { subject: { id: 'std_sel' }, action: 'client.view', resource: { type: 'client', id: 'c_qb' } },
      { subject: { id: 'ghost' }, action: 'client.view', resource: { type: 'client', id: 'c_qb' } },
      { subject: { id: 'std_ls' }, action: 'client.view', resource: { type: 'client', id: 'c_xero3' } },
    ];
    const response = await post('/v1/decide/batch', { requests });
    t.equal(response.statusCode, 200);
    const { results } = response.json() as {
      results: Array<{ allow: boolean; reasons: Array<{ code: string }>; decision_id: string }>;
    };
    t.same(
      results.map((r) => r.allow),
      [true, false, false, false],
    );
    t.same(results.map((r) => r.reasons.map((x) => x.code)).slice(1), [
      ['client_not_allocated'],
      ['unknown_subject'],
      ['client_not_allocated', 'ledger_access_required'],
    ]);
    t.equal(new Set(results.map((r) => r.decision_id)).size, 4, 'each has its own decision id');
    for (const [i, request] of requests.entries()) {
      const single = (await post('/v1/decide', request)).json() as { allow: boolean; reasons: unknown };
      t.same(
        { allow: single.allow, reasons: single.reasons },
        { allow: results[i]?.allow, reasons: results[i]?.reasons },
        `item ${i} matches /v1/decide`,
      );
    }
  });

  t.test('when a batch holds more than 1000 requests, then it is refused naming the field', async (t) => {
    const one = { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } };
    const response = await post('/v1/decide/batch', { requests: Array.from({ length: 1001 }, () => one) });
    t.equal(response.statusCode, 400);
    t.equal(response.json().error.details.field, 'requests');
  });

  t.test('when a user lists the clients they may view, then the greyed-out ones come with why', async (t) => {
    const response = await post('/v1/resources/query', {
      subject: { id: 'std_ls' },
      action: 'client.view',
      resource_type: 'client',
      include_denied: true,
    });
    t.equal(response.statusCode, 200);
    const body = response.json();
    t.same(body.allowed, ['c_myob', 'c_xero']);
    t.same(body.denied, [
      { id: 'c_none', reasons: [{ code: 'client_not_allocated', message: body.denied[0].reasons[0].message }] },
      { id: 'c_qb', reasons: [{ code: 'client_not_allocated', message: body.denied[1].reasons[0].message }] },
      { id: 'c_xero2', reasons: [{ code: 'ledger_access_required', message: body.denied[2].reasons[0].message }] },
      {
        id: 'c_xero3',
        reasons: [
          { code: 'client_not_allocated', message: body.denied[3].reasons[0].message },
          { code: 'ledger_access_required', message: body.denied[3].reasons[1].message },
        ],
      },
    ]);
    const plain = (
      await post('/v1/resources/query', { subject: { id: 'std_ls' }, action: 'client.view', resource_type: 'client' })
    ).json();
    t.same(plain.allowed, ['c_myob', 'c_xero']);
    t.notOk('denied' in plain, 'denied only when asked');
  });

  t.test('when the list query is asked for each client, then it agrees with /v1/decide', async (t) => {
    for (const subject of ['pa', 'ca', 'ca_sel', 'std_sel', 'std_la', 'std_ls', 'ea', 'sus']) {
      const listed = (
        await post('/v1/resources/query', {
          subject: { id: subject },
          action: 'client.edit',
          resource_type: 'client',
          include_denied: true,
        })
      ).json();
      const allowed: string[] = [];
      for (const id of ['c_myob', 'c_none', 'c_qb', 'c_xero', 'c_xero2', 'c_xero3']) {
        const single = (
          await post('/v1/decide', {
            subject: { id: subject },
            action: 'client.edit',
            resource: { type: 'client', id },
          })
        ).json();
        if (single.allow) allowed.push(id);
        else
          t.same(
            listed.denied.find((d: { id: string }) => d.id === id)?.reasons,
            single.reasons,
            `${subject} ${id} reasons`,
          );
      }
      t.same(listed.allowed, allowed, `${subject}: same allowed list`);
    }
  });

  t.test('when an unknown subject lists clients, then nothing is listed', async (t) => {
    const body = (
      await post('/v1/resources/query', {
        subject: { id: 'ghost' },
        action: 'client.view',
        resource_type: 'client',
        include_denied: true,
      })
    ).json();
    t.same({ allowed: body.allowed, denied: body.denied }, { allowed: [], denied: [] });
  });

  t.test('when asked through the OPA Data API path, then the answer is the decision as OPA result', async (t) => {
    const input = { subject: { id: 'std_la' }, action: 'client.view', resource: { type: 'client', id: 'c_xero2' } };
    const response = await post('/v1/data/clearance/decision', { input });
    t.equal(response.statusCode, 200);
    const body = response.json();
    t.equal(body.result.allow, false);
    t.same(
      body.result.reasons.map((r: { code: string }) => r.code),
      ['ledger_access_required'],
    );
    t.equal(body.decision_id, body.result.decision_id);
  });
});
