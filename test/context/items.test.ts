// Items (documents) through the context API: owner and client from the same account, the
// account's own books when there is no client, and decisions that follow an item changing hands.
import t from 'tap';
import { auditRows, contextApp, decide, errorOf, seedPractice, warm, written } from '../helpers/context.ts';

t.test('given two practices written through the API', async (t) => {
  const { app, database, admin } = await contextApp(t, { silentFeed: true });
  const db = database.db;
  await seedPractice(admin, 'p1');
  await seedPractice(admin, 'p2');
  await admin.patch('/v1/accounts/p1/users/p1-lee', { permissions: { publishing: 'all' } });
  const itemUrl = (id: string, account = 'p1') => `/v1/accounts/${account}/items/${id}`;

  t.test('when an own-books item is PUT without a client, then 201 with client_id null', async (t) => {
    const created = await admin.put(itemUrl('claim-1'), { kind: 'expense_claim', owner_user_id: 'p1-std' });
    t.equal(created.statusCode, 201);
    t.match(created.json(), {
      id: 'claim-1',
      account_id: 'p1',
      kind: 'expense_claim',
      owner_user_id: 'p1-std',
      client_id: null,
    });
    t.same((await admin.get(itemUrl('claim-1'))).json(), written(created));
    t.match((await auditRows(db)).at(-1), {
      record_type: 'item',
      record_id: 'claim-1',
      user_id: 'p1-std',
      client_id: null,
      change: 'create',
    });
  });

  t.test("when a client's item is PUT, then it carries the client; the same PUT again changes nothing", async (t) => {
    const body = { kind: 'invoice', owner_user_id: 'p1-lee', client_id: 'p1-acme' };
    t.equal((await admin.put(itemUrl('inv-1'), body)).statusCode, 201);
    const entries = (await auditRows(db)).length;
    const again = await admin.put(itemUrl('inv-1'), body);
    t.equal(again.statusCode, 200);
    t.equal((await auditRows(db)).length, entries);
    t.match(again.json(), body);
  });

  t.test('when an item has no owner (null), then it is accepted', async (t) => {
    const response = await admin.put(itemUrl('orphan'), { kind: 'receipt', owner_user_id: null, client_id: null });
    t.equal(response.statusCode, 201);
    t.equal(response.json().owner_user_id, null);
  });

  const refusals: Array<[string, unknown, number, string, string]> = [
    [
      'the owner is a user of another account',
      { kind: 'receipt', owner_user_id: 'p2-std' },
      400,
      'invalid_reference',
      'owner_user_id',
    ],
    [
      'the owner does not exist',
      { kind: 'receipt', owner_user_id: 'ghost' },
      400,
      'invalid_reference',
      'owner_user_id',
    ],
    [
      'the client is a client of another account',
      { kind: 'receipt', owner_user_id: 'p1-std', client_id: 'p2-acme' },
      400,
      'invalid_reference',
      'client_id',
    ],
    ['the kind is unknown', { kind: 'memo', owner_user_id: 'p1-std' }, 400, 'invalid_request', 'kind'],
    ['the owner is left out', { kind: 'receipt' }, 400, 'invalid_request', 'owner_user_id'],
    [
      'the client id is malformed',
      { kind: 'receipt', owner_user_id: 'p1-std', client_id: 'a/b' },
      400,
      'invalid_request',
      'client_id',
    ],
  ];
  for (const [when, body, status, code, field] of refusals) {
    t.test(`when ${when}, then ${status} ${code} naming ${field}, and nothing is written`, async (t) => {
      const entries = (await auditRows(db)).length;
      const response = await admin.put(itemUrl('refused'), body);
      t.equal(response.statusCode, status, response.body);
      t.equal(errorOf(response).code, code);
      t.equal(errorOf(response).details?.field, field);
      t.equal((await admin.get(itemUrl('refused'))).statusCode, 404);
      t.equal((await auditRows(db)).length, entries);
    });
  }

  t.test('when an item id of another account is PUT, then 409 id_conflict', async (t) => {
    await admin.put(itemUrl('theirs', 'p2'), { kind: 'receipt', owner_user_id: 'p2-std' });
    const response = await admin.put(itemUrl('theirs'), { kind: 'receipt', owner_user_id: 'p1-std' });
    t.equal(response.statusCode, 409);
    t.equal(errorOf(response).details?.field, 'itemId');
    t.equal((await admin.get(itemUrl('theirs', 'p2'))).json().owner_user_id, 'p2-std');
  });

  t.test('when an item changes hands, then the next decision follows and the audit has before and after', async (t) => {
    await admin.put(itemUrl('receipt-1'), { kind: 'receipt', owner_user_id: 'p1-std' });
    t.same((await warm(t, app, () => decide(app, 'p1-lee', 'item.view', { type: 'item', id: 'receipt-1' }))).codes, [
      'not_owner',
    ]);
    t.equal((await admin.put(itemUrl('receipt-1'), { kind: 'receipt', owner_user_id: 'p1-lee' })).statusCode, 200);
    t.equal((await decide(app, 'p1-lee', 'item.view', { type: 'item', id: 'receipt-1' })).allow, true);
    t.match((await auditRows(db)).at(-1), {
      change: 'update',
      user_id: 'p1-lee',
      before: { owner_user_id: 'p1-std' },
      after: { owner_user_id: 'p1-lee' },
    });
  });

  t.test('when items are listed, then a page at a time in id order', async (t) => {
    const first = (await admin.get('/v1/accounts/p1/items?limit=2')).json() as {
      items: Array<{ id: string }>;
      next_cursor: string;
    };
    const rest = (await admin.get(`/v1/accounts/p1/items?limit=100&cursor=${first.next_cursor}`)).json() as {
      items: Array<{ id: string }>;
    };
    const stored = (
      await db.selectFrom('items').select('id').where('account_id', '=', 'p1').orderBy('id').execute()
    ).map((i) => i.id);
    t.same(
      [...first.items, ...rest.items].map((i) => i.id),
      stored,
    );
  });

  t.test('when an item is deleted, then 204, it is gone for decisions too, and a second delete is 404', async (t) => {
    t.equal((await admin.del(itemUrl('receipt-1'))).statusCode, 204);
    t.same((await decide(app, 'p1-lee', 'item.view', { type: 'item', id: 'receipt-1' })).codes, ['resource_not_found']);
    t.match((await auditRows(db)).at(-1), {
      record_id: 'receipt-1',
      change: 'delete',
      after: null,
      before: { owner_user_id: 'p1-lee' },
    });
    const again = await admin.del(itemUrl('receipt-1'));
    t.equal(again.statusCode, 404);
    t.equal(errorOf(again).code, 'item_not_found');
  });
});
