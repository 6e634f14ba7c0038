// Cached facts never outlive a change: writes made in plain SQL reach the next decisions, and a
// database outage mid-run refuses (never allows) and heals by itself.
import t from 'tap';
import { sql } from 'kysely';
import { FEED_CHECK_EVERY_MS, FEED_CHECK_TIMEOUT_MS } from '../../service/data/connect.ts';
import { CONNECT_TIMEOUT_MS, QUERY_TIMEOUT_MS } from '../../service/data/pg-pool.ts';
import { buildAppBehindProxy, buildAppWithFeedBehindProxy, buildTestApp, eventually } from '../helpers/app.ts';
import { TEST_ENGINE } from '../helpers/database.ts';
import { ADMIN_TOKEN, contextApp, decide, warm, type Api } from '../helpers/context.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import type { FastifyInstance } from 'fastify';

const ask = (app: FastifyInstance, token: string, subject: string, client: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { authorization: `Bearer ${token}` },
    payload: { subject: { id: subject }, action: 'client.view', resource: { type: 'client', id: client } },
  });

t.test('given warm cached facts, when they change in plain SQL, then the next decisions see it', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  t.ok(await eventually(async () => app.facts.stats.enabled), 'change feed up');

  t.equal((await ask(app, token, 'std_sel', 'c_qb')).json().allow, false);
  t.equal((await ask(app, token, 'std_sel', 'c_qb')).json().allow, false, 'asked twice: now from the cache');
  const hits = app.facts.stats.hits;
  t.ok(hits > 0, 'the cache served facts');

  await sql`insert into allocations (account_id, user_id, client_id) values ('p1', 'std_sel', 'c_qb')`.execute(
    database.db,
  );
  t.ok(
    await eventually(async () => (await ask(app, token, 'std_sel', 'c_qb')).json().allow === true),
    'allocation seen',
  );

  await sql`update users set status = 'suspended' where id = 'std_sel'`.execute(database.db);
  t.ok(
    await eventually(
      async () => (await ask(app, token, 'std_sel', 'c_qb')).json().reasons[0]?.code === 'user_suspended',
    ),
    'suspension seen',
  );

  await sql`update clients set ledger = 'xero' where id = 'c_myob'`.execute(database.db);
  t.ok(
    await eventually(
      async () => (await ask(app, token, 'std_la', 'c_myob')).json().reasons[0]?.code === 'ledger_access_required',
    ),
    'ledger change seen',
  );

  await sql`delete from clients where id = 'c_none'`.execute(database.db);
  t.ok(
    await eventually(
      async () => (await ask(app, token, 'pa', 'c_none')).json().reasons[0]?.code === 'resource_not_found',
    ),
    'deletion seen',
  );
});

t.test(
  'given PostgreSQL goes away mid-run, then decisions are refused with 503 and resume when it returns',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to cut' },
  async (t) => {
    const { app, database, proxy } = await buildAppBehindProxy(t);
    await app.ready();
    await app.databaseStatus.whenMigrated;
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide']);
    t.ok(await eventually(async () => app.facts.stats.enabled), 'change feed up');
    t.equal((await ask(app, token, 'pa', 'c_xero')).json().allow, true, 'allowed while up (and now cached)');

    proxy.cut();
    t.ok(await eventually(async () => !app.facts.stats.enabled), 'the cache is bypassed once the feed is lost');
    const refused = await ask(app, token, 'pa', 'c_xero');
    t.equal(refused.statusCode, 503, 'refused, not answered from a cache that may be stale');
    t.equal(refused.json().error.code, 'context_unavailable');
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/decide/batch',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        requests: [{ subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } }],
      },
    });
    // The token cannot be checked either, so the whole request is refused.
    t.equal(batch.statusCode, 503);

    proxy.restore();
    t.ok(
      await eventually(async () => (await ask(app, token, 'pa', 'c_xero')).statusCode === 200, 15_000),
      'answers again after the outage',
    );
    t.equal((await ask(app, token, 'pa', 'c_xero')).json().allow, true);
  },
);

t.test(
  'given the change feed goes silent (its connection open, no byte passing), then within the bound the cache is bypassed and decisions see changes made meanwhile',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to reach through a proxy' },
  async (t) => {
    const { app, database, proxy } = await buildAppWithFeedBehindProxy(t);
    await app.ready();
    await app.databaseStatus.whenMigrated;
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide']);
    t.ok(await eventually(async () => app.facts.stats.enabled), 'change feed up');
    t.equal((await ask(app, token, 'pa', 'c_xero')).json().allow, true);
    t.equal((await ask(app, token, 'pa', 'c_xero')).json().allow, true, 'asked twice: now from the cache');

    proxy.freeze();
    const frozenAt = Date.now();
    // Nothing reaches the process: no notification, no error, no close.
    await sql`update users set status = 'suspended' where id = 'pa'`.execute(database.db);
    // Three seconds of slack for timers on a shared, busy 2-core machine.
    const bound = FEED_CHECK_EVERY_MS + FEED_CHECK_TIMEOUT_MS + 3000;
    t.ok(await eventually(async () => !app.facts.stats.enabled, bound + 5000), 'the cache is bypassed');
    t.ok(Date.now() - frozenAt <= bound, `within ${bound} ms (took ${Date.now() - frozenAt} ms)`);
    const answer = (await ask(app, token, 'pa', 'c_xero')).json();
    t.equal(answer.allow, false, 'the suspension made meanwhile is seen');
    t.equal(answer.reasons[0]?.code, 'user_suspended');

    proxy.restore();
    t.ok(await eventually(async () => app.facts.stats.enabled, 15_000), 'the feed comes back by itself');
    await sql`update users set status = 'active' where id = 'pa'`.execute(database.db);
    t.ok(
      await eventually(async () => (await ask(app, token, 'pa', 'c_xero')).json().allow === true),
      'and changes reach the cache again',
    );
  },
);

t.test(
  'given PostgreSQL stops answering (its connections open, no byte passing), then decisions are refused with 503 within the bound, never allowed',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to reach through a proxy' },
  async (t) => {
    // The token from the environment: the request reaches the decision without asking the database.
    const { app, database, proxy } = await buildAppBehindProxy(t, { adminToken: ADMIN_TOKEN });
    await app.ready();
    await app.databaseStatus.whenMigrated;
    await seedFixtures(database.db);
    t.ok(await eventually(async () => app.facts.stats.enabled), 'change feed up');
    t.equal(
      (await ask(app, ADMIN_TOKEN, 'pa', 'c_xero')).json().allow,
      true,
      'allowed while up (the pool has open connections now)',
    );

    proxy.freeze();
    // Three seconds of slack for a shared, busy 2-core machine; without a bound the answer never came.
    const bound = Math.max(QUERY_TIMEOUT_MS, CONNECT_TIMEOUT_MS) + 3000;
    const within = <T>(answer: Promise<T>) =>
      Promise.race([
        answer,
        new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), bound + 5000).unref()),
      ]);
    for (const [subject, client] of [
      ['ca', 'c_xero'],
      ['std_all', 'c_qb'],
    ] as const) {
      const started = Date.now();
      const answer = await within(ask(app, ADMIN_TOKEN, subject, client));
      const took = Date.now() - started;
      t.not(answer, 'no answer', `${subject} on ${client}: answered`);
      if (answer === 'no answer') continue;
      t.equal(answer.statusCode, 503, `${subject} on ${client}: refused (${answer.body})`);
      t.equal(answer.json().error?.code, 'context_unavailable');
      t.ok(took <= bound, `within ${bound} ms (took ${took} ms)`);
    }
    const batch = await within(
      app.inject({
        method: 'POST',
        url: '/v1/decide/batch',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: {
          requests: [{ subject: { id: 'std_la' }, action: 'client.view', resource: { type: 'client', id: 'c_myob' } }],
        },
      }),
    );
    t.not(batch, 'no answer', 'a batch is answered');
    if (batch !== 'no answer')
      t.same(
        batch.json().results.map((r: { allow: boolean; error?: { code: string } }) => [r.allow, r.error?.code]),
        [[false, 'context_unavailable']],
        'each item refused',
      );
    // Once the silent feed is noticed, what was cached is not used either.
    t.ok(await eventually(async () => !app.facts.stats.enabled, 10_000), 'the cache is bypassed');
    const cached = await within(ask(app, ADMIN_TOKEN, 'pa', 'c_xero'));
    t.not(cached, 'no answer');
    if (cached !== 'no answer') t.equal(cached.statusCode, 503, 'the decision cached before is refused too');

    proxy.restore();
    t.ok(
      await eventually(async () => (await ask(app, ADMIN_TOKEN, 'pa', 'c_xero')).statusCode === 200, 20_000),
      'answers again once the database does',
    );
    t.equal((await ask(app, ADMIN_TOKEN, 'ca', 'c_xero')).json().allow, true);
  },
);

/** Asks the list query; the ids allowed. */
const listed = async (app: FastifyInstance, subject: string): Promise<string[]> =>
  (
    await app.inject({
      method: 'POST',
      url: '/v1/resources/query',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { subject: { id: subject }, action: 'client.view', resource_type: 'client' },
    })
  ).json().allowed;

/** A practice every id of which has a ':' in it, as ids may (^[A-Za-z0-9_.:-]{1,128}$). */
async function seedColonIds(admin: Api): Promise<void> {
  const ok = (r: { statusCode: number; body: string }) => {
    if (r.statusCode >= 300) throw new Error(`seed failed: ${r.statusCode} ${r.body}`);
  };
  ok(await admin.put('/v1/accounts/acct:9', { kind: 'practice', name: 'Colons' }));
  ok(await admin.put('/v1/accounts/acct:9/users/adm:1', { name: 'Admin', role: 'practice_admin' }));
  ok(
    await admin.put('/v1/accounts/acct:9/users/org:42', {
      name: 'Org',
      role: 'standard',
      client_access_mode: 'selected',
    }),
  );
  ok(
    await admin.put('/v1/accounts/acct:9/users/la:1', {
      name: 'Ledger',
      role: 'standard',
      client_access_mode: 'ledger_all',
    }),
  );
  ok(await admin.put('/v1/accounts/acct:9/clients/cl:1', { name: 'One', ledger: 'quickbooks' }));
  ok(await admin.put('/v1/accounts/acct:9/clients/cl:x', { name: 'Xero', ledger: 'xero' }));
  ok(await admin.put('/v1/accounts/acct:9/items/doc:7', { kind: 'receipt', owner_user_id: 'org:42' }));
}

const decideCodes = async (
  app: FastifyInstance,
  subject: string,
  action: string,
  resource: { type: string; id: string },
) => {
  const { allow, codes } = await decide(app, subject, action, resource);
  return allow ? 'allow' : codes.join(',');
};

t.test(
  'given warm cached facts whose ids contain ":", when they change in plain SQL, then the next decisions see it',
  async (t) => {
    const { app, database, admin } = await contextApp(t);
    const db = database.db;
    await seedColonIds(admin);
    const client = (subject: string, id: string) => decideCodes(app, subject, 'client.view', { type: 'client', id });
    const soon = async (check: () => Promise<unknown>, expected: unknown) =>
      eventually(async () => (await check()) === expected);

    await warm(t, app, () => client('org:42', 'cl:1'));
    await sql`insert into allocations (account_id, user_id, client_id) values ('acct:9', 'org:42', 'cl:1')`.execute(db);
    t.ok(await soon(() => client('org:42', 'cl:1'), 'allow'), 'allocation seen');

    await warm(t, app, () => client('la:1', 'cl:x'));
    await sql`insert into ledger_access (account_id, user_id, client_id) values ('acct:9', 'la:1', 'cl:x')`.execute(db);
    t.ok(await soon(() => client('la:1', 'cl:x'), 'allow'), 'ledger access seen');

    await warm(t, app, () => client('la:1', 'cl:1'));
    await sql`update clients set ledger = 'xero' where id = 'cl:1'`.execute(db);
    t.ok(await soon(() => client('la:1', 'cl:1'), 'ledger_access_required'), 'client change seen');

    const item = () => decideCodes(app, 'org:42', 'item.view', { type: 'item', id: 'doc:7' });
    await warm(t, app, item);
    await sql`update items set owner_user_id = 'adm:1' where id = 'doc:7'`.execute(db);
    t.ok(await soon(item, 'not_owner'), 'item change seen');

    await warm(t, app, () => listed(app, 'adm:1'));
    await sql`insert into clients (id, account_id, account_kind, name) values ('cl:2', 'acct:9', 'practice', 'Two')`.execute(
      db,
    );
    t.ok(
      await eventually(async () => (await listed(app, 'adm:1')).includes('cl:2')),
      "new client in the account's list",
    );

    await sql`update users set status = 'suspended' where id = 'org:42'`.execute(db);
    t.ok(await soon(() => client('org:42', 'cl:1'), 'user_suspended'), 'suspension seen');
  },
);

t.test(
  'given warm cached facts whose ids contain ":", when they change through the API, then the very next decision sees it',
  async (t) => {
    // No notification arrives: only the writing process's own invalidation keeps the cache fresh.
    const { app, admin } = await contextApp(t, { silentFeed: true });
    await seedColonIds(admin);
    const client = (subject: string, id: string) => decideCodes(app, subject, 'client.view', { type: 'client', id });
    const ok = (r: { statusCode: number; body: string }) => t.ok(r.statusCode < 300, r.body);

    await warm(t, app, () => client('org:42', 'cl:1'));
    ok(await admin.put('/v1/accounts/acct:9/users/org:42/allocations', { client_ids: ['cl:1'] }));
    t.equal(await client('org:42', 'cl:1'), 'allow', 'allocation seen');

    await warm(t, app, () => client('la:1', 'cl:x'));
    ok(await admin.put('/v1/accounts/acct:9/users/la:1/ledger-access', { client_ids: ['cl:x'] }));
    t.equal(await client('la:1', 'cl:x'), 'allow', 'ledger access seen');

    await warm(t, app, () => client('la:1', 'cl:1'));
    ok(await admin.put('/v1/accounts/acct:9/clients/cl:1', { name: 'One', ledger: 'xero' }));
    t.equal(await client('la:1', 'cl:1'), 'ledger_access_required', 'client change seen');

    const item = () => decideCodes(app, 'org:42', 'item.view', { type: 'item', id: 'doc:7' });
    await warm(t, app, item);
    ok(await admin.put('/v1/accounts/acct:9/items/doc:7', { kind: 'receipt', owner_user_id: 'adm:1' }));
    t.equal(await item(), 'not_owner', 'item change seen');

    await warm(t, app, () => listed(app, 'adm:1'));
    ok(await admin.put('/v1/accounts/acct:9/clients/cl:2', { name: 'Two', ledger: 'none' }));
    t.ok((await listed(app, 'adm:1')).includes('cl:2'), "new client in the account's list");

    ok(await admin.patch('/v1/accounts/acct:9/users/org:42', { status: 'suspended' }));
    t.equal(await client('org:42', 'cl:1'), 'user_suspended', 'suspension seen');
  },
);
