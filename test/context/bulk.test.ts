// Bulk syncs: up to 10,000 records of one kind in one request and one transaction. A full ledger
// sync is visible to the very next decision; any invalid record refuses the whole request.
import t from 'tap';
import { TEST_ENGINE } from '../helpers/database.ts';
import { auditRows, contextApp, decide, errorOf, seedPractice, warm, written } from '../helpers/context.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const pad = (i: number) => String(i).padStart(3, '0');

t.test('given a practice of 100 users (Xero permissions + all) and 100 Xero clients', async (t) => {
  const { app, database, admin } = await contextApp(t, { silentFeed: true });
  const db = database.db;
  await admin.put('/v1/accounts/big', { kind: 'practice', name: 'Big Practice' });
  await seedPractice(admin, 'other');
  const users = range(100).map((i) => ({
    id: `u${pad(i)}`,
    name: `User ${i}`,
    role: 'standard',
    client_access_mode: 'ledger_all',
  }));
  const clients = range(100).map((i) => ({ id: `c${pad(i)}`, name: `Client ${i}`, ledger: 'xero' }));
  t.same(written(await admin.post('/v1/accounts/big/sync/users', { records: users })), {
    created: 100,
    updated: 0,
    unchanged: 0,
    deleted: 0,
  });
  t.same(written(await admin.post('/v1/accounts/big/sync/clients', { records: clients })), {
    created: 100,
    updated: 0,
    unchanged: 0,
    deleted: 0,
  });
  const everyPair = users.flatMap((u) => clients.map((c) => ({ user_id: u.id, client_id: c.id })));
  const pairCount = async () =>
    Number(
      (
        await db
          .selectFrom('ledger_access')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('account_id', '=', 'big')
          .executeTakeFirstOrThrow()
      ).n,
    );
  const view = (user: string, client: string) => decide(app, user, 'client.view', { type: 'client', id: client });

  t.test(
    'when 10,000 ledger-access pairs arrive in one replace sync, then all are stored and the next decision sees them',
    async (t) => {
      t.same((await warm(t, app, () => view('u000', 'c000'))).codes, ['ledger_access_required']);
      t.same((await warm(t, app, () => view('u099', 'c099'))).codes, ['ledger_access_required']);
      const body = { records: everyPair, mode: 'replace' };
      t.ok(JSON.stringify(body).length < 4 * 1024 * 1024, 'a 10,000-pair body fits the app-wide 4 MiB');
      const auditBefore = (await auditRows(db)).length;

      const started = performance.now();
      const response = await admin.post('/v1/accounts/big/sync/ledger-access', body);
      const elapsed = performance.now() - started;
      t.equal(response.statusCode, 200, response.body.slice(0, 300));
      t.same(written(response), { created: 10_000, updated: 0, unchanged: 0, deleted: 0 });
      t.comment(
        `10,000-pair ledger sync in one request: ${elapsed.toFixed(0)} ms on ${TEST_ENGINE} (first sync of the process)`,
      );

      t.equal(await pairCount(), 10_000);
      t.equal((await view('u000', 'c000')).allow, true, 'visible to the very next decision');
      t.equal((await view('u099', 'c099')).allow, true);
      const entries = (await auditRows(db)).slice(auditBefore);
      t.equal(entries.length, 10_000, 'one audit entry per pair');
      t.equal(new Set(entries.map((e) => e.request_id)).size, 1, 'all from one request');
      t.ok(entries.every((e) => e.record_type === 'ledger_access' && e.change === 'create'));
    },
  );

  t.test('when the same sync is sent again, then everything is unchanged and nothing is recorded', async (t) => {
    const auditBefore = (await auditRows(db)).length;
    const started = performance.now();
    const response = await admin.post('/v1/accounts/big/sync/ledger-access', { records: everyPair, mode: 'replace' });
    t.comment(
      `the same 10,000 pairs again (nothing to write): ${(performance.now() - started).toFixed(0)} ms on ${TEST_ENGINE}`,
    );
    t.same(written(response), { created: 0, updated: 0, unchanged: 10_000, deleted: 0 });
    t.equal((await auditRows(db)).length, auditBefore);
  });

  t.test(
    'when a replace sync lists half the pairs, then the rest are removed and decisions see it at once',
    async (t) => {
      const half = everyPair.filter((p) => p.client_id < 'c050');
      const started = performance.now();
      const response = await admin.post('/v1/accounts/big/sync/ledger-access', { records: half, mode: 'replace' });
      t.comment(
        `replace sync keeping 5,000 pairs and removing 5,000: ${(performance.now() - started).toFixed(0)} ms on ${TEST_ENGINE}`,
      );
      t.same(written(response), { created: 0, updated: 0, unchanged: 5000, deleted: 5000 });
      t.equal(await pairCount(), 5000);
      t.same((await view('u000', 'c099')).codes, ['ledger_access_required'], 'removed pair refused at once');
      t.equal((await view('u000', 'c000')).allow, true, 'kept pair still allowed');
      t.same(
        (await admin.get('/v1/accounts/big/users/u000/ledger-access')).json().client_ids,
        range(50).map((i) => `c${pad(i)}`),
      );
    },
  );

  t.test('when an upsert sync lists new pairs, then they are added and the others stay', async (t) => {
    const response = await admin.post('/v1/accounts/big/sync/ledger-access', {
      records: [
        { user_id: 'u000', client_id: 'c099' },
        { user_id: 'u000', client_id: 'c099' },
        { user_id: 'u000', client_id: 'c000' },
      ],
    });
    t.same(
      written(response),
      { created: 1, updated: 0, unchanged: 1, deleted: 0 },
      'the default mode is upsert; a pair listed twice counts once',
    );
    t.equal(await pairCount(), 5001);
    t.equal((await view('u000', 'c099')).allow, true);
  });

  t.test('when a sync holds 10,001 records, then 400 names records and nothing is written', async (t) => {
    const before = await pairCount();
    const response = await admin.post('/v1/accounts/big/sync/ledger-access', {
      records: [...everyPair, { user_id: 'u000', client_id: 'c000' }],
      mode: 'replace',
    });
    t.equal(response.statusCode, 400);
    t.equal(errorOf(response).details?.field, 'records');
    t.equal(await pairCount(), before);
  });

  const refusals: Array<[string, string, unknown, number, string, string]> = [
    [
      'a pair names a client of another account',
      'ledger-access',
      {
        records: [
          { user_id: 'u001', client_id: 'c001' },
          { user_id: 'u001', client_id: 'other-acme' },
        ],
      },
      400,
      'invalid_reference',
      'records[1].client_id',
    ],
    [
      'a pair names a user of another account',
      'allocations',
      { records: [{ user_id: 'other-std', client_id: 'c001' }] },
      400,
      'invalid_reference',
      'records[0].user_id',
    ],
    [
      'a pair has a malformed id',
      'allocations',
      { records: [{ user_id: 'u001', client_id: 'c 1' }] },
      400,
      'invalid_request',
      'records[0].client_id',
    ],
    ['the mode is unknown', 'allocations', { records: [], mode: 'merge' }, 400, 'invalid_request', 'mode'],
    [
      'a user has a role of the other kind',
      'users',
      { records: [users[0], users[1], { id: 'u-new', name: 'New', role: 'user_admin' }] },
      400,
      'invalid_role',
      'records[2].role',
    ],
    [
      'a user id is listed twice',
      'users',
      { records: [users[0], { ...users[0], name: 'Twice' }] },
      400,
      'duplicate_record',
      'records[1].id',
    ],
    [
      'a user id belongs to another account',
      'users',
      { records: [users[0], { id: 'other-std', name: 'Stolen', role: 'standard' }] },
      409,
      'id_conflict',
      'records[1].id',
    ],
    [
      'a user record has an unknown field',
      'users',
      { records: [{ ...users[0], email: 'x@example.com' }] },
      400,
      'invalid_request',
      'records[0].email',
    ],
    [
      "an item's owner is of another account",
      'items',
      {
        records: [
          { id: 'i-1', kind: 'receipt', owner_user_id: 'u001' },
          { id: 'i-2', kind: 'receipt', owner_user_id: 'other-std' },
        ],
      },
      400,
      'invalid_reference',
      'records[1].owner_user_id',
    ],
    ['the account does not exist', 'users', { records: [] }, 404, 'account_not_found', ''],
  ];
  for (const [when, kind, body, status, code, field] of refusals) {
    t.test(
      `when ${when}, then ${status} ${code}${field ? ` naming ${field}` : ''}, and nothing is written`,
      async (t) => {
        const counts = async () =>
          Promise.all(
            (['users', 'clients', 'items', 'allocations', 'ledger_access'] as const).map(
              async (table) => (await db.selectFrom(table).select('account_id').execute()).length,
            ),
          );
        const before = await counts();
        const entries = (await auditRows(db)).length;
        const account = code === 'account_not_found' ? 'nowhere' : 'big';
        const response = await admin.post(`/v1/accounts/${account}/sync/${kind}`, body);
        t.equal(response.statusCode, status, response.body);
        t.equal(errorOf(response).code, code);
        if (field) t.equal(errorOf(response).details?.field, field);
        t.same(await counts(), before);
        t.equal((await auditRows(db)).length, entries);
      },
    );
  }

  t.test('when the kind is not one of the five, then 404', async (t) => {
    t.equal((await admin.post('/v1/accounts/big/sync/accounts', { records: [] })).statusCode, 404);
  });

  t.test('when clients are synced into a business account, then 400 naming accountId', async (t) => {
    await admin.put('/v1/accounts/biz', { kind: 'business', name: 'Biz' });
    const response = await admin.post('/v1/accounts/biz/sync/clients', { records: [{ id: 'biz-client', name: 'X' }] });
    t.equal(response.statusCode, 400);
    t.equal(errorOf(response).details?.field, 'accountId');
  });

  t.test(
    'when users are synced with replace, then unlisted users go with their pairs and their items lose the owner',
    async (t) => {
      await admin.put('/v1/accounts/big/items/doc-u099', { kind: 'receipt', owner_user_id: 'u099' });
      const kept = users.slice(0, 99).map((u) => (u.id === 'u000' ? { ...u, name: 'User zero, renamed' } : u));
      const response = await admin.post('/v1/accounts/big/sync/users', { records: kept, mode: 'replace' });
      t.same(written(response), { created: 0, updated: 1, unchanged: 98, deleted: 1 });
      t.equal((await admin.get('/v1/accounts/big/users/u099')).statusCode, 404);
      t.equal((await admin.get('/v1/accounts/big/users/u000')).json().name, 'User zero, renamed');
      t.equal(
        (await db.selectFrom('ledger_access').select('client_id').where('user_id', '=', 'u099').execute()).length,
        0,
      );
      t.equal((await admin.get('/v1/accounts/big/items/doc-u099')).json().owner_user_id, null);
      t.same((await view('u099', 'c000')).codes, ['unknown_subject']);
    },
  );

  t.test('when items are synced, then references are checked and replace removes the unlisted ones', async (t) => {
    const records = [
      { id: 'doc-1', kind: 'invoice', owner_user_id: 'u001', client_id: 'c001' },
      { id: 'doc-2', kind: 'expense_claim', owner_user_id: 'u002' },
    ];
    t.same(written(await admin.post('/v1/accounts/big/sync/items', { records, mode: 'replace' })), {
      created: 2,
      updated: 0,
      unchanged: 0,
      deleted: 1,
    });
    t.equal((await admin.get('/v1/accounts/big/items/doc-u099')).statusCode, 404);
    t.same(
      ((await admin.get('/v1/accounts/big/items')).json().items as Array<{ id: string }>).map((i) => i.id),
      ['doc-1', 'doc-2'],
    );
  });

  t.test(
    'when a users sync is over 4 MiB (10,000 users with long fields), then it is accepted up to the 16 MiB sync limit',
    async (t) => {
      await admin.put('/v1/accounts/wide', { kind: 'practice', name: 'Wide' });
      const wide = range(10_000).map((i) => ({
        id: `user.${'x'.repeat(100)}.${i}`,
        name: `${'N'.repeat(190)} ${i}`,
        role: 'standard',
        client_access_mode: 'ledger_all',
        xpm_staff_id: `xpm.${'y'.repeat(100)}.${i}`,
        permissions: {
          add_clients: true,
          practice_insights: true,
          manage_business: true,
          create_expense_claims: true,
          publishing: 'expense_claims_only',
        },
      }));
      const body = { records: wide };
      t.ok(JSON.stringify(body).length > 4 * 1024 * 1024);
      const started = performance.now();
      const response = await admin.post('/v1/accounts/wide/sync/users', body);
      t.comment(
        `10,000 users (${(JSON.stringify(body).length / 1048576).toFixed(1)} MiB) in one sync: ${(performance.now() - started).toFixed(0)} ms on ${TEST_ENGINE}`,
      );
      t.same(written(response), { created: 10_000, updated: 0, unchanged: 0, deleted: 0 });
      const huge = await admin.post('/v1/accounts/wide/sync/users', {
        records: [{ id: 'x', name: 'n'.repeat(17 * 1024 * 1024), role: 'standard' }],
      });
      t.equal(huge.statusCode, 413);
      t.equal(errorOf(huge).code, 'body_too_large');
    },
  );
});
