// Users through the context API: PUT is a full replace, PATCH a merge patch; roles must fit the
// account's kind; a delete takes the user's pairs and leaves their items unowned; decisions see
// each change at once.
import t from 'tap';
import { auditRows, contextApp, decide, errorOf, seedPractice, warm, written } from '../helpers/context.ts';

const DEFAULTS = {
  status: 'active',
  client_access_mode: null,
  permissions: {
    add_clients: false,
    practice_insights: false,
    manage_business: false,
    create_expense_claims: false,
    publishing: 'none',
  },
  xpm_staff_id: null,
};

t.test('given a practice and a business written through the API', async (t) => {
  // The change feed never delivers here: only the API's own invalidation keeps decisions fresh.
  const { app, database, admin } = await contextApp(t, { silentFeed: true });
  const db = database.db;
  await seedPractice(admin, 'p1');
  await seedPractice(admin, 'p2');
  t.equal((await admin.put('/v1/accounts/b1', { kind: 'business', name: 'Business' })).statusCode, 201);
  const userUrl = (id: string, account = 'p1') => `/v1/accounts/${account}/users/${id}`;

  t.test('when a user is PUT with only name and role, then 201 and every other field has its default', async (t) => {
    const created = await admin.put(userUrl('ann'), { name: 'Ann', role: 'client_admin' });
    t.equal(created.statusCode, 201);
    t.match(created.json(), { id: 'ann', account_id: 'p1', name: 'Ann', role: 'client_admin', ...DEFAULTS });
    t.same((await admin.get(userUrl('ann'))).json(), written(created), 'GET reads it back');
  });

  t.test('when a user is PUT again with fewer fields, then the omitted ones go back to their defaults', async (t) => {
    const full = {
      name: 'Bea',
      role: 'standard',
      status: 'suspended',
      client_access_mode: 'ledger_all',
      permissions: {
        add_clients: true,
        practice_insights: true,
        manage_business: true,
        create_expense_claims: true,
        publishing: 'all',
      },
      xpm_staff_id: 'xpm-9',
    };
    t.equal((await admin.put(userUrl('bea'), full)).statusCode, 201);
    t.match((await admin.get(userUrl('bea'))).json(), full);
    const replaced = await admin.put(userUrl('bea'), {
      name: 'Bea',
      role: 'standard',
      permissions: { publishing: 'expense_claims_only' },
    });
    t.equal(replaced.statusCode, 200);
    t.match(replaced.json(), {
      ...DEFAULTS,
      permissions: { ...DEFAULTS.permissions, publishing: 'expense_claims_only' },
    });
  });

  t.test('when the same PUT is sent twice, then the state, updated_at and the audit stay as they were', async (t) => {
    const body = { name: 'Cy', role: 'standard', permissions: { create_expense_claims: true } };
    const first = await admin.put(userUrl('cy'), body);
    const entries = (await auditRows(db)).length;
    const second = await admin.put(userUrl('cy'), body);
    t.equal(second.statusCode, 200);
    t.same(written(second), written(first), 'same record, same updated_at');
    t.equal((await auditRows(db)).length, entries, 'no audit entry when nothing changed');
  });

  t.test(
    'when a user is patched, then only the fields sent change; permissions merge key by key; null resets',
    async (t) => {
      await admin.put(userUrl('dee'), {
        name: 'Dee',
        role: 'standard',
        client_access_mode: 'selected',
        permissions: { add_clients: true, publishing: 'all' },
        xpm_staff_id: 'xpm-1',
      });
      const patched = await admin.patch(
        userUrl('dee'),
        { permissions: { practice_insights: true, publishing: null }, xpm_staff_id: null },
        'application/merge-patch+json',
      );
      t.equal(patched.statusCode, 200);
      t.match(patched.json(), {
        name: 'Dee',
        role: 'standard',
        client_access_mode: 'selected',
        permissions: {
          add_clients: true,
          practice_insights: true,
          manage_business: false,
          create_expense_claims: false,
          publishing: 'none',
        },
        xpm_staff_id: null,
      });
      const again = await admin.patch(userUrl('dee'), { client_access_mode: null, permissions: null, name: 'Dee D.' });
      t.equal(again.statusCode, 200, 'application/json is accepted too');
      t.match(again.json(), { name: 'Dee D.', client_access_mode: null, permissions: DEFAULTS.permissions });
    },
  );

  t.test('when an empty patch is sent, then 200 with the user unchanged and no audit entry', async (t) => {
    const before = (await admin.get(userUrl('dee'))).json();
    const entries = (await auditRows(db)).length;
    const response = await admin.patch(userUrl('dee'), {});
    t.equal(response.statusCode, 200);
    t.same(written(response), before);
    t.equal((await auditRows(db)).length, entries);
  });

  t.test('when a role, mode or status changes, then the audit entry holds before and after', async (t) => {
    await admin.patch(userUrl('dee'), { role: 'client_admin', client_access_mode: 'all', status: 'suspended' });
    const last = (await auditRows(db)).at(-1);
    t.match(last, { record_type: 'user', record_id: 'dee', user_id: 'dee', account_id: 'p1', change: 'update' });
    t.match(last?.before, { role: 'standard', client_access_mode: null, status: 'active' });
    t.match(last?.after, { role: 'client_admin', client_access_mode: 'all', status: 'suspended' });
  });

  const refusals: Array<[string, () => Promise<{ statusCode: number; body: string }>, number, string, string]> = [
    [
      'a business role is PUT in a practice',
      () => admin.put(userUrl('eve'), { name: 'Eve', role: 'business_admin' }),
      400,
      'invalid_role',
      'role',
    ],
    [
      'a practice role is PUT in a business',
      () => admin.put(userUrl('eve', 'b1'), { name: 'Eve', role: 'client_admin' }),
      400,
      'invalid_role',
      'role',
    ],
    [
      'a business role is patched onto a practice user',
      () => admin.patch(userUrl('cy'), { role: 'user_admin' }),
      400,
      'invalid_role',
      'role',
    ],
    [
      'a client access mode is given to a business user',
      () => admin.put(userUrl('eve', 'b1'), { name: 'Eve', role: 'standard', client_access_mode: 'all' }),
      400,
      'invalid_client_access_mode',
      'client_access_mode',
    ],
    [
      'the role is unknown',
      () => admin.put(userUrl('eve'), { name: 'Eve', role: 'owner' }),
      400,
      'invalid_request',
      'role',
    ],
    [
      'the status is unknown',
      () => admin.put(userUrl('eve'), { name: 'Eve', role: 'standard', status: 'gone' }),
      400,
      'invalid_request',
      'status',
    ],
    [
      'a permission is of the wrong type',
      () => admin.put(userUrl('eve'), { name: 'Eve', role: 'standard', permissions: { add_clients: 'yes' } }),
      400,
      'invalid_request',
      'permissions.add_clients',
    ],
    [
      'publishing is unknown',
      () => admin.put(userUrl('eve'), { name: 'Eve', role: 'standard', permissions: { publishing: 'some' } }),
      400,
      'invalid_request',
      'permissions.publishing',
    ],
    [
      'xpm_staff_id is empty',
      () => admin.put(userUrl('eve'), { name: 'Eve', role: 'standard', xpm_staff_id: '' }),
      400,
      'invalid_request',
      'xpm_staff_id',
    ],
    ['the name is patched to null', () => admin.patch(userUrl('cy'), { name: null }), 400, 'invalid_request', 'name'],
    [
      'the user id is malformed',
      () => admin.put(userUrl('e v e'), { name: 'Eve', role: 'standard' }),
      400,
      'invalid_request',
      'userId',
    ],
    [
      'the account does not exist',
      () => admin.put(userUrl('eve', 'nowhere'), { name: 'Eve', role: 'standard' }),
      404,
      'account_not_found',
      '',
    ],
    ['an unknown user is patched', () => admin.patch(userUrl('nobody'), { name: 'X' }), 404, 'user_not_found', ''],
    [
      'the user id belongs to another account',
      () => admin.put(userUrl('p2-std'), { name: 'Steal', role: 'standard' }),
      409,
      'id_conflict',
      'userId',
    ],
  ];
  for (const [when, send, status, code, field] of refusals) {
    t.test(`when ${when}, then ${status} ${code}${field ? ` naming ${field}` : ''}, and nothing changes`, async (t) => {
      const users = await db.selectFrom('users').selectAll().orderBy('id').execute();
      const entries = (await auditRows(db)).length;
      const response = await send();
      t.equal(response.statusCode, status, response.body);
      t.equal(errorOf(response as never).code, code);
      if (field) t.equal(errorOf(response as never).details?.field, field);
      t.same(await db.selectFrom('users').selectAll().orderBy('id').execute(), users);
      t.equal((await auditRows(db)).length, entries);
    });
  }

  t.test('when a user of another account is read through this account, then 404 user_not_found', async (t) => {
    const response = await admin.get(userUrl('p2-std', 'p1'));
    t.equal(response.statusCode, 404);
    t.equal(errorOf(response).code, 'user_not_found');
    t.equal((await admin.get(userUrl('p2-std', 'p2'))).statusCode, 200);
  });

  t.test('when an id of 128 characters is used, then it is accepted', async (t) => {
    const id = `u.${'x'.repeat(126)}`;
    t.equal((await admin.put(userUrl(id), { name: 'Long', role: 'standard' })).statusCode, 201);
    t.equal((await admin.get(userUrl(id))).json().id, id);
    t.equal((await admin.del(userUrl(id))).statusCode, 204);
  });

  t.test('when users are listed a page at a time, then pages cover them all in id order', async (t) => {
    const first = await admin.get('/v1/accounts/p1/users?limit=3');
    t.equal(first.statusCode, 200);
    const page1 = first.json() as { users: Array<{ id: string }>; next_cursor: string };
    t.equal(page1.users.length, 3);
    t.type(page1.next_cursor, 'string');
    const rest = (await admin.get(`/v1/accounts/p1/users?limit=1000&cursor=${page1.next_cursor}`)).json() as {
      users: Array<{ id: string }>;
      next_cursor: null;
    };
    t.equal(rest.next_cursor, null);
    const ids = [...page1.users, ...rest.users].map((u) => u.id);
    const stored = (
      await db.selectFrom('users').select('id').where('account_id', '=', 'p1').orderBy('id').execute()
    ).map((u) => u.id);
    t.same(ids, stored);
    t.equal((await admin.get('/v1/accounts/nowhere/users')).statusCode, 404);
  });

  t.test(
    'when a user is suspended, then the very next decision refuses them (no waiting for the change feed)',
    async (t) => {
      await admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme'] });
      t.same(await warm(t, app, () => decide(app, 'p1-std', 'client.view', { type: 'client', id: 'p1-acme' })), {
        allow: true,
        codes: ['client_allocated'],
      });
      await admin.patch(userUrl('p1-std'), { status: 'suspended' });
      t.same((await decide(app, 'p1-std', 'client.view', { type: 'client', id: 'p1-acme' })).codes, ['user_suspended']);
      await admin.patch(userUrl('p1-std'), { status: null });
      t.equal(
        (await decide(app, 'p1-std', 'client.view', { type: 'client', id: 'p1-acme' })).allow,
        true,
        'status null = active again',
      );
    },
  );

  t.test('when a user is deleted, then their pairs go, their items stay unowned, and the audit says so', async (t) => {
    await admin.put('/v1/accounts/p1/users/p1-lee/allocations', { client_ids: ['p1-acme', 'p1-globex'] });
    await admin.put('/v1/accounts/p1/users/p1-lee/ledger-access', { client_ids: ['p1-acme'] });
    await admin.put('/v1/accounts/p1/items/lee-claim', { kind: 'expense_claim', owner_user_id: 'p1-lee' });
    t.same((await decide(app, 'p1-lee', 'client.view', { type: 'client', id: 'p1-acme' })).allow, true);
    const before = (await auditRows(db)).length;

    const deleted = await admin.del(userUrl('p1-lee'));
    t.equal(deleted.statusCode, 204);
    t.equal((await admin.get(userUrl('p1-lee'))).statusCode, 404);
    t.equal(
      (await db.selectFrom('allocations').select('client_id').where('user_id', '=', 'p1-lee').execute()).length,
      0,
    );
    t.equal(
      (await db.selectFrom('ledger_access').select('client_id').where('user_id', '=', 'p1-lee').execute()).length,
      0,
    );
    t.equal(
      (await admin.get('/v1/accounts/p1/items/lee-claim')).json().owner_user_id,
      null,
      'the item stays, owned by nobody',
    );
    t.same(
      (await decide(app, 'p1-lee', 'client.view', { type: 'client', id: 'p1-acme' })).codes,
      ['unknown_subject'],
      'decisions see it at once',
    );

    const entries = (await auditRows(db)).slice(before);
    t.equal(new Set(entries.map((e) => e.request_id)).size, 1);
    t.same(
      entries.map((e) => `${e.record_type}:${e.record_id}:${e.change}`),
      [
        'user:p1-lee:delete',
        'allocation:p1-lee/p1-acme:delete',
        'allocation:p1-lee/p1-globex:delete',
        'ledger_access:p1-lee/p1-acme:delete',
        'item:lee-claim:update',
      ],
    );
    t.match(entries.at(-1), { before: { owner_user_id: 'p1-lee' }, after: { owner_user_id: null } });
    t.equal((await admin.del(userUrl('p1-lee'))).statusCode, 404, 'a second delete finds nothing');
  });
});
