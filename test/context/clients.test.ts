// Clients through the context API: practice accounts only, idempotent PUT, and a delete that takes
// the client's allocations, ledger access and items with it.
import t from 'tap';
import { auditRows, contextApp, decide, errorOf, seedPractice, written } from '../helpers/context.ts';

t.test('given two practices and a business written through the API', async (t) => {
  const { app, database, admin } = await contextApp(t, { silentFeed: true });
  const db = database.db;
  await seedPractice(admin, 'p1');
  await seedPractice(admin, 'p2');
  await admin.put('/v1/accounts/b1', { kind: 'business', name: 'Business' });

  t.test('when a client is PUT without a ledger, then 201 with ledger none, and GET reads it back', async (t) => {
    const created = await admin.put('/v1/accounts/p1/clients/wayne', { name: 'Wayne Enterprises' });
    t.equal(created.statusCode, 201);
    t.match(created.json(), {
      id: 'wayne',
      account_id: 'p1',
      name: 'Wayne Enterprises',
      ledger: 'none',
      created_at: String,
      updated_at: String,
    });
    t.same((await admin.get('/v1/accounts/p1/clients/wayne')).json(), written(created));
  });

  t.test(
    'when the same client is PUT again, then 200 and nothing is recorded; a new ledger is an update',
    async (t) => {
      const entries = (await auditRows(db)).length;
      const same = await admin.put('/v1/accounts/p1/clients/wayne', { name: 'Wayne Enterprises', ledger: 'none' });
      t.equal(same.statusCode, 200);
      t.equal((await auditRows(db)).length, entries);
      const moved = await admin.put('/v1/accounts/p1/clients/wayne', { name: 'Wayne Enterprises', ledger: 'myob' });
      t.equal(moved.statusCode, 200);
      t.equal(moved.json().ledger, 'myob');
      const last = (await auditRows(db)).at(-1);
      t.match(last, {
        record_type: 'client',
        record_id: 'wayne',
        client_id: 'wayne',
        change: 'update',
        before: { ledger: 'none' },
        after: { ledger: 'myob' },
      });
    },
  );

  t.test('when a client is PUT into a business account, then 400 invalid_account_kind naming accountId', async (t) => {
    const response = await admin.put('/v1/accounts/b1/clients/nope', { name: 'Nope' });
    t.equal(response.statusCode, 400);
    t.equal(errorOf(response).code, 'invalid_account_kind');
    t.equal(errorOf(response).details?.field, 'accountId');
    t.equal((await db.selectFrom('clients').select('id').where('id', '=', 'nope').execute()).length, 0);
  });

  t.test('when the ledger is unknown or the client id malformed, then 400 naming it', async (t) => {
    const ledger = await admin.put('/v1/accounts/p1/clients/bad', { name: 'Bad', ledger: 'sage' });
    t.equal(ledger.statusCode, 400);
    t.equal(errorOf(ledger).details?.field, 'ledger');
    const id = await admin.put('/v1/accounts/p1/clients/b%C3%A4d', { name: 'Bad' });
    t.equal(id.statusCode, 400);
    t.equal(errorOf(id).details?.field, 'clientId');
  });

  t.test('when a client id of another account is PUT, then 409 id_conflict and that client is untouched', async (t) => {
    const theirs = (await admin.get('/v1/accounts/p2/clients/p2-acme')).json();
    const response = await admin.put('/v1/accounts/p1/clients/p2-acme', { name: 'Mine now' });
    t.equal(response.statusCode, 409);
    t.equal(errorOf(response).code, 'id_conflict');
    t.equal(errorOf(response).details?.field, 'clientId');
    t.same((await admin.get('/v1/accounts/p2/clients/p2-acme')).json(), theirs);
    t.equal(
      (await admin.get('/v1/accounts/p1/clients/p2-acme')).statusCode,
      404,
      'not visible through the other account',
    );
  });

  t.test('when clients are listed, then a page at a time in id order', async (t) => {
    const page = (await admin.get('/v1/accounts/p1/clients?limit=2')).json() as {
      clients: Array<{ id: string }>;
      next_cursor: string;
    };
    const rest = (await admin.get(`/v1/accounts/p1/clients?cursor=${page.next_cursor}`)).json() as {
      clients: Array<{ id: string }>;
      next_cursor: null;
    };
    const stored = (
      await db.selectFrom('clients').select('id').where('account_id', '=', 'p1').orderBy('id').execute()
    ).map((c) => c.id);
    t.same(
      [...page.clients, ...rest.clients].map((c) => c.id),
      stored,
    );
    t.equal(rest.next_cursor, null);
  });

  t.test("when a client's ledger changes, then the next decision follows it", async (t) => {
    await admin.patch('/v1/accounts/p1/users/p1-std', { client_access_mode: 'ledger_all' });
    t.same((await decide(app, 'p1-std', 'client.view', { type: 'client', id: 'p1-globex' })).codes, [
      'ledger_access_required',
    ]);
    await admin.put('/v1/accounts/p1/clients/p1-globex', { name: 'Globex', ledger: 'quickbooks' });
    t.equal(
      (await decide(app, 'p1-std', 'client.view', { type: 'client', id: 'p1-globex' })).allow,
      true,
      'no Xero, no ledger access needed',
    );
  });

  t.test(
    'when a client is deleted, then its pairs and items go with it, other clients keep theirs, and the audit lists each',
    async (t) => {
      await admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme', 'p1-hooli'] });
      await admin.put('/v1/accounts/p1/users/p1-lee/allocations', { client_ids: ['p1-acme'] });
      await admin.put('/v1/accounts/p1/users/p1-lee/ledger-access', { client_ids: ['p1-acme', 'p1-globex'] });
      await admin.put('/v1/accounts/p1/items/acme-invoice', {
        kind: 'invoice',
        owner_user_id: 'p1-std',
        client_id: 'p1-acme',
      });
      await admin.put('/v1/accounts/p1/items/hooli-invoice', {
        kind: 'invoice',
        owner_user_id: 'p1-std',
        client_id: 'p1-hooli',
      });
      t.equal((await decide(app, 'p1-admin', 'client.view', { type: 'client', id: 'p1-acme' })).allow, true);
      const before = (await auditRows(db)).length;

      t.equal((await admin.del('/v1/accounts/p1/clients/p1-acme')).statusCode, 204);
      t.equal((await admin.get('/v1/accounts/p1/clients/p1-acme')).statusCode, 404);
      t.same((await admin.get('/v1/accounts/p1/users/p1-std/allocations')).json(), { client_ids: ['p1-hooli'] });
      t.same((await admin.get('/v1/accounts/p1/users/p1-lee/allocations')).json(), { client_ids: [] });
      t.same((await admin.get('/v1/accounts/p1/users/p1-lee/ledger-access')).json(), { client_ids: ['p1-globex'] });
      t.equal(
        (await admin.get('/v1/accounts/p1/items/acme-invoice')).statusCode,
        404,
        "the client's document went with it",
      );
      t.equal((await admin.get('/v1/accounts/p1/items/hooli-invoice')).statusCode, 200);
      t.same((await decide(app, 'p1-admin', 'client.view', { type: 'client', id: 'p1-acme' })).codes, [
        'resource_not_found',
      ]);

      const entries = (await auditRows(db)).slice(before);
      t.equal(new Set(entries.map((e) => e.request_id)).size, 1);
      t.same(
        entries.map((e) => `${e.record_type}:${e.record_id}:${e.change}`),
        [
          'client:p1-acme:delete',
          'allocation:p1-lee/p1-acme:delete',
          'allocation:p1-std/p1-acme:delete',
          'ledger_access:p1-lee/p1-acme:delete',
          'item:acme-invoice:delete',
        ],
      );
      const unknown = await admin.del('/v1/accounts/p1/clients/p1-acme');
      t.equal(unknown.statusCode, 404);
      t.equal(errorOf(unknown).code, 'client_not_found');
    },
  );
});
