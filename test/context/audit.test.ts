// The audit trail as operators read it: newest first, filtered, a page at a time, with who made
// each change and the record before and after.
import t from 'tap';
import { until } from '../helpers/wait.ts';
import { api, contextApp, errorOf, seedPractice } from '../helpers/context.ts';
import { makeToken } from '../helpers/fixtures.ts';

interface Entry {
  id: number;
  at: string;
  request_id: string;
  token_id: string;
  account_id: string | null;
  record_type: string;
  record_id: string;
  user_id: string | null;
  client_id: string | null;
  change: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

t.test('given a history of changes made with two tokens', async (t) => {
  const { app, database } = await contextApp(t);
  const db = database.db;
  const aliceToken = await makeToken(db, ['admin']);
  const bobToken = await makeToken(db, ['admin']);
  const [alice, bob] = [aliceToken, bobToken].map((token) => api(app, token)) as [
    ReturnType<typeof api>,
    ReturnType<typeof api>,
  ];
  const aliceId = aliceToken.split('_')[1] as string;
  const bobId = bobToken.split('_')[1] as string;
  const logs = api(app, await makeToken(db, ['logs']));

  await seedPractice(alice, 'p1');
  await seedPractice(alice, 'p2');
  // A moment strictly between the seed and the grants (times are kept to the microsecond, the
  // clock here to the millisecond): the clock moves on past each.
  const seeded = Date.now();
  await until(() => Date.now() > seeded, 'the clock to move on');
  const beforeGrant = new Date();
  await until(() => Date.now() > beforeGrant.getTime(), 'the clock to move on');
  await bob.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme', 'p1-globex'] });
  await alice.patch('/v1/accounts/p1/users/p1-std', { role: 'client_admin' });
  await alice.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-globex'] });
  const list = async (query: string) => {
    const response = await logs.get(`/v1/audit${query}`);
    if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
    return response.json() as { entries: Entry[]; next_cursor: string | null };
  };

  t.test('when the whole trail is read, then entries come newest first with every field', async (t) => {
    const { entries } = await list('?limit=1000');
    t.ok(entries.length > 10);
    for (let i = 1; i < entries.length; i++) {
      const [newer, older] = [entries[i - 1] as Entry, entries[i] as Entry];
      t.ok(
        newer.at > older.at || (newer.at === older.at && newer.id > older.id),
        `entry ${i} is older than the one before`,
      );
    }
    t.match(entries[0], {
      id: Number,
      at: String,
      request_id: /^[0-9a-f-]{36}$/,
      token_id: aliceId,
      account_id: 'p1',
      record_type: 'allocation',
      record_id: 'p1-std/p1-acme',
      user_id: 'p1-std',
      client_id: 'p1-acme',
      change: 'delete',
      before: { user_id: 'p1-std', client_id: 'p1-acme' },
      after: null,
    });
  });

  t.test('when operators ask who gave p1-std access to p1-acme and when, then the trail answers it', async (t) => {
    const { entries } = await list('?user_id=p1-std&client_id=p1-acme');
    t.same(
      entries.map((e) => [e.record_type, e.change, e.token_id]),
      [
        ['allocation', 'delete', aliceId],
        ['allocation', 'create', bobId],
      ],
    );
    t.ok(new Date(entries[1]?.at as string) >= new Date(beforeGrant.getTime() - 1), 'with the time it happened');
  });

  t.test("when a user's role changed, then the entry holds the role before and after", async (t) => {
    const { entries } = await list('?record_type=user&record_id=p1-std');
    t.same(
      entries.map((e) => e.change),
      ['update', 'create'],
    );
    t.equal(entries[0]?.before?.role, 'standard');
    t.equal(entries[0]?.after?.role, 'client_admin');
  });

  t.test('when filtered by account, token or time, then only matching entries come back', async (t) => {
    const p2 = await list('?account_id=p2&limit=1000');
    t.ok(p2.entries.length > 0);
    t.ok(p2.entries.every((e) => e.account_id === 'p2'));
    const byBob = await list(`?token_id=${bobId}`);
    t.same(byBob.entries.map((e) => e.record_id).sort(), ['p1-std/p1-acme', 'p1-std/p1-globex']);
    const recent = await list(`?since=${encodeURIComponent(beforeGrant.toISOString())}&limit=1000`);
    t.same(
      recent.entries.map((e) => `${e.record_type}:${e.record_id}:${e.change}`),
      [
        'allocation:p1-std/p1-acme:delete',
        'user:p1-std:update',
        'allocation:p1-std/p1-globex:create',
        'allocation:p1-std/p1-acme:create',
      ],
      'two grants, the role change and one removal since',
    );
    const old = await list(`?until=${encodeURIComponent(beforeGrant.toISOString())}&limit=1000`);
    t.equal(
      old.entries.length + recent.entries.length,
      (await list('?limit=1000')).entries.length,
      'since and until split the trail',
    );
  });

  t.test('when read a page at a time, then the pages cover the trail once, newest first', async (t) => {
    const all = (await list('?limit=1000')).entries.map((e) => e.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
      t.ok(page.entries.length <= 4);
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 100);
    t.same(seen, all);
  });

  const badQueries: Array<[string, string]> = [
    ['limit=0', 'limit'],
    ['record_type=planet', 'record_type'],
    ['record_id=a%2Fb%2Fc', 'record_id'],
    ['user_id=has%20space', 'user_id'],
    ['since=yesterday', 'since'],
    ['since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ['cursor=garbage', 'cursor'],
    ['who=me', 'who'],
  ];
  for (const [query, field] of badQueries) {
    t.test(`when the query is ${query}, then 400 names ${field}`, async (t) => {
      const response = await logs.get(`/v1/audit?${query}`);
      t.equal(response.statusCode, 400);
      t.equal(errorOf(response).details?.field, field);
    });
  }

  t.test('when a token without the logs scope reads the trail, then 403', async (t) => {
    const response = await alice.get('/v1/audit');
    t.equal(response.statusCode, 403);
    t.equal(errorOf(response).code, 'insufficient_scope');
  });

  t.test('when a write changes nothing, then the trail has no entry for it', async (t) => {
    const before = (await list('?limit=1000')).entries.length;
    await alice.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-globex'] });
    await alice.put('/v1/accounts/p1', { kind: 'practice', name: 'Practice p1' });
    t.equal((await list('?limit=1000')).entries.length, before);
  });
});
