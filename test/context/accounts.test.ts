// Accounts through the context API: idempotent PUT, reads, the kind lock, pages, the cascade of a
// delete, and the refusals a caller can run into.
import t from 'tap';
import { makeToken } from '../helpers/fixtures.ts';
import { api, auditRows, contextApp, errorOf, seedPractice, written } from '../helpers/context.ts';

t.test('given the context API and an admin token', async (t) => {
  const { app, database, admin } = await contextApp(t);
  const db = database.db;

  t.test(
    'when an account is PUT, then 201 with the record, GET reads it back and the audit has one create',
    async (t) => {
      const created = await admin.put('/v1/accounts/acct-1', { kind: 'practice', name: 'First Practice' });
      t.equal(created.statusCode, 201);
      const record = written(created);
      t.match(record, {
        id: 'acct-1',
        kind: 'practice',
        name: 'First Practice',
        created_at: String,
        updated_at: String,
      });
      const read = await admin.get('/v1/accounts/acct-1');
      t.equal(read.statusCode, 200);
      t.same(read.json(), record);
      const audit = (await auditRows(db)).filter((r) => r.record_id === 'acct-1');
      t.equal(audit.length, 1);
      t.match(audit[0], {
        record_type: 'account',
        change: 'create',
        account_id: 'acct-1',
        token_id: 'env:CLEARANCE_ADMIN_TOKEN',
        before: null,
      });
      t.same(audit[0]?.after, record, 'after is the record as GET shows it');
    },
  );

  t.test(
    'when the same PUT is sent twice, then 200, the same state, the same updated_at and no second audit entry',
    async (t) => {
      const before = (await admin.get('/v1/accounts/acct-1')).json();
      const entries = (await auditRows(db)).length;
      const again = await admin.put('/v1/accounts/acct-1', { kind: 'practice', name: 'First Practice' });
      t.equal(again.statusCode, 200);
      t.same(written(again), before);
      t.same((await admin.get('/v1/accounts/acct-1')).json(), before);
      t.equal((await auditRows(db)).length, entries, 'nothing changed, nothing recorded');
    },
  );

  t.test(
    'when ten first PUTs of one new account arrive at once, then one creates it, the rest find it, and the audit has one create',
    async (t) => {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => admin.put('/v1/accounts/raced', { kind: 'business', name: 'Raced' })),
      );
      t.same(answers.map((a) => a.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      t.same(new Set(answers.map((a) => a.json().created_at)).size, 1, 'every answer shows the same record');
      const audit = (await auditRows(db)).filter((r) => r.record_id === 'raced');
      t.same(
        audit.map((r) => r.change),
        ['create'],
      );
    },
  );

  t.test('when the name changes, then 200, updated_at moves and the audit has before and after', async (t) => {
    const before = (await admin.get('/v1/accounts/acct-1')).json();
    const renamed = await admin.put('/v1/accounts/acct-1', { kind: 'practice', name: 'Renamed Practice' });
    t.equal(renamed.statusCode, 200);
    t.equal(renamed.json().name, 'Renamed Practice');
    t.equal(renamed.json().created_at, before.created_at);
    t.ok(renamed.json().updated_at > before.updated_at, 'updated_at moved');
    const last = (await auditRows(db)).at(-1);
    t.match(last, { record_type: 'account', record_id: 'acct-1', change: 'update' });
    t.equal(last?.before?.name, 'First Practice');
    t.equal(last?.after?.name, 'Renamed Practice');
  });

  t.test('when the kind of an account without users or clients changes, then it is allowed', async (t) => {
    const changed = await admin.put('/v1/accounts/acct-1', { kind: 'business', name: 'Renamed Practice' });
    t.equal(changed.statusCode, 200);
    t.equal(changed.json().kind, 'business');
  });

  t.test(
    'when the kind of an account with users changes, then 400 account_kind_locked naming kind, and nothing changes',
    async (t) => {
      await seedPractice(admin, 'locked');
      const before = (await admin.get('/v1/accounts/locked')).json();
      const entries = (await auditRows(db)).length;
      const refused = await admin.put('/v1/accounts/locked', { kind: 'business', name: 'Another name too' });
      t.equal(refused.statusCode, 400);
      t.equal(errorOf(refused).code, 'account_kind_locked');
      t.equal(errorOf(refused).details?.field, 'kind');
      t.same((await admin.get('/v1/accounts/locked')).json(), before, 'the name did not change either');
      t.equal((await auditRows(db)).length, entries);
    },
  );

  t.test('when an unknown account is read or deleted, then 404 account_not_found', async (t) => {
    for (const response of [await admin.get('/v1/accounts/nobody'), await admin.del('/v1/accounts/nobody')]) {
      t.equal(response.statusCode, 404);
      t.equal(errorOf(response).code, 'account_not_found');
    }
  });

  t.test('when the account id in the path is malformed, then 400 names accountId', async (t) => {
    for (const id of ['a%20b', 'a$b', 'x'.repeat(129), 'a%2Fb']) {
      const response = await admin.put(`/v1/accounts/${id}`, { kind: 'practice', name: 'x' });
      t.equal(response.statusCode, 400, id);
      t.equal(errorOf(response).details?.field, 'accountId', id);
    }
    t.equal((await db.selectFrom('accounts').select('id').where('id', 'like', 'a%b').execute()).length, 0);
  });

  const badBodies: Array<[string, unknown, string]> = [
    ['the kind is unknown', { kind: 'charity', name: 'x' }, 'kind'],
    ['the name is missing', { kind: 'practice' }, 'name'],
    ['the name is empty', { kind: 'practice', name: '' }, 'name'],
    ['the name is over 200 characters', { kind: 'practice', name: 'n'.repeat(201) }, 'name'],
    ['a field is unknown', { kind: 'practice', name: 'x', owner: 'me' }, 'owner'],
  ];
  for (const [when, body, field] of badBodies) {
    t.test(`when ${when}, then 400 names ${field} and nothing is written`, async (t) => {
      const response = await admin.put('/v1/accounts/fresh', body);
      t.equal(response.statusCode, 400);
      t.equal(errorOf(response).code, 'invalid_request');
      t.equal(errorOf(response).details?.field, field);
      t.equal((await admin.get('/v1/accounts/fresh')).statusCode, 404);
    });
  }

  t.test('when the body is not JSON, then 400 invalid_json', async (t) => {
    const response = await app.inject({
      method: 'PUT',
      url: '/v1/accounts/fresh',
      headers: { authorization: 'Bearer admin-token-for-context-tests', 'content-type': 'application/json' },
      payload: '{"kind": ',
    });
    t.equal(response.statusCode, 400);
    t.equal(errorOf(response).code, 'invalid_json');
  });

  t.test(
    'when accounts are listed a page at a time, then the pages cover every account once, in id order',
    async (t) => {
      for (const id of ['list-a', 'list-b', 'list-c', 'list-d', 'list-e'])
        await admin.put(`/v1/accounts/${id}`, { kind: 'business', name: id });
      const all = ((await admin.get('/v1/accounts?limit=1000')).json().accounts as Array<{ id: string }>).map(
        (a) => a.id,
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response = await admin.get(`/v1/accounts?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        t.equal(response.statusCode, 200);
        const body = response.json() as { accounts: Array<{ id: string }>; next_cursor: string | null };
        t.ok(body.accounts.length <= 2);
        seen.push(...body.accounts.map((a) => a.id));
        cursor = body.next_cursor;
        pages += 1;
      } while (cursor !== null && pages < 20);
      t.same(seen, all);
      t.equal(pages, Math.ceil(all.length / 2));
    },
  );

  t.test('when limit or cursor is invalid, then 400 names it', async (t) => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=%21%21', 'cursor'],
      ['cursor=bm90IGFuIGlkIQ', 'cursor'],
      ['page=2', 'page'],
    ] as const) {
      const response = await admin.get(`/v1/accounts?${query}`);
      t.equal(response.statusCode, 400, query);
      t.equal(errorOf(response).details?.field, field, query);
    }
  });

  t.test(
    'when an account is deleted, then everything in it goes and each record that went is in the audit',
    async (t) => {
      await seedPractice(admin, 'doomed');
      t.equal(
        (await admin.put('/v1/accounts/doomed/users/doomed-std/allocations', { client_ids: ['doomed-acme'] }))
          .statusCode,
        200,
      );
      t.equal(
        (await admin.put('/v1/accounts/doomed/users/doomed-lee/ledger-access', { client_ids: ['doomed-globex'] }))
          .statusCode,
        200,
      );
      t.equal(
        (
          await admin.put('/v1/accounts/doomed/items/doomed-doc', {
            kind: 'receipt',
            owner_user_id: 'doomed-std',
            client_id: 'doomed-acme',
          })
        ).statusCode,
        201,
      );
      const before = (await auditRows(db)).length;

      const deleted = await admin.del('/v1/accounts/doomed');
      t.equal(deleted.statusCode, 204);
      t.equal(deleted.body, '');
      t.equal((await admin.get('/v1/accounts/doomed')).statusCode, 404);
      for (const table of ['users', 'clients', 'items', 'allocations', 'ledger_access'] as const) {
        t.equal(
          (await db.selectFrom(table).select('account_id').where('account_id', '=', 'doomed').execute()).length,
          0,
          `no ${table} left`,
        );
      }
      const entries = (await auditRows(db)).slice(before);
      t.equal(new Set(entries.map((e) => e.request_id)).size, 1, 'one request');
      t.ok(entries.every((e) => e.change === 'delete' && e.after === null && e.account_id === 'doomed'));
      t.same(entries.map((e) => `${e.record_type}:${e.record_id}`).sort(), [
        'account:doomed',
        'allocation:doomed-std/doomed-acme',
        'client:doomed-acme',
        'client:doomed-globex',
        'client:doomed-hooli',
        'item:doomed-doc',
        'ledger_access:doomed-lee/doomed-globex',
        'user:doomed-admin',
        'user:doomed-lee',
        'user:doomed-std',
      ]);
      t.equal((await admin.del('/v1/accounts/doomed')).statusCode, 404, 'a second delete finds nothing');
    },
  );

  t.test(
    'when a DELETE comes with Content-Type: application/json and no body, then it is not refused for it',
    async (t) => {
      await admin.put('/v1/accounts/plain-delete', { kind: 'business', name: 'x' });
      const response = await app.inject({
        method: 'DELETE',
        url: '/v1/accounts/plain-delete',
        headers: { authorization: 'Bearer admin-token-for-context-tests', 'content-type': 'application/json' },
      });
      t.equal(response.statusCode, 204);
    },
  );

  t.test('when the token lacks the admin scope, then 403; without a token, 401; nothing is written', async (t) => {
    const decideOnly = api(app, await makeToken(db, ['decide', 'logs']));
    const refused = await decideOnly.put('/v1/accounts/scoped', { kind: 'practice', name: 'x' });
    t.equal(refused.statusCode, 403);
    t.equal(errorOf(refused).code, 'insufficient_scope');
    t.equal((await decideOnly.get('/v1/accounts/locked')).statusCode, 403, 'reads need admin too');
    const anonymous = await app.inject({
      method: 'PUT',
      url: '/v1/accounts/scoped',
      payload: { kind: 'practice', name: 'x' },
    });
    t.equal(anonymous.statusCode, 401);
    t.equal((await admin.get('/v1/accounts/scoped')).statusCode, 404);
  });
});
