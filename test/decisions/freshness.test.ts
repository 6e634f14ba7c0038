// Cached facts never outlive a change: writes made in plain SQL reach the next decisions, and a
// database outage mid-run refuses (never allows) and heals by itself.
import t from 'tap';
import { sql } from 'kysely';
import { buildAppBehindProxy, buildTestApp, eventually } from '../helpers/app.ts';
import { TEST_ENGINE } from '../helpers/database.ts';
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

  await sql`insert into allocations (account_id, user_id, client_id) values ('p1', 'std_sel', 'c_qb')`.execute(database.db);
  t.ok(await eventually(async () => (await ask(app, token, 'std_sel', 'c_qb')).json().allow === true), 'allocation seen');

  await sql`update users set status = 'suspended' where id = 'std_sel'`.execute(database.db);
  t.ok(await eventually(async () => (await ask(app, token, 'std_sel', 'c_qb')).json().reasons[0]?.code === 'user_suspended'), 'suspension seen');

  await sql`update clients set ledger = 'xero' where id = 'c_myob'`.execute(database.db);
  t.ok(await eventually(async () => (await ask(app, token, 'std_la', 'c_myob')).json().reasons[0]?.code === 'ledger_access_required'), 'ledger change seen');

  await sql`delete from clients where id = 'c_none'`.execute(database.db);
  t.ok(await eventually(async () => (await ask(app, token, 'pa', 'c_none')).json().reasons[0]?.code === 'resource_not_found'), 'deletion seen');
});

t.test('given PostgreSQL goes away mid-run, then decisions are refused with 503 and resume when it returns', { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to cut' }, async (t) => {
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
    payload: { requests: [{ subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } }] },
  });
  // The token cannot be checked either, so the whole request is refused.
  t.equal(batch.statusCode, 503);

  proxy.restore();
  t.ok(await eventually(async () => (await ask(app, token, 'pa', 'c_xero')).statusCode === 200, 15_000), 'answers again after the outage');
  t.equal((await ask(app, token, 'pa', 'c_xero')).json().allow, true);
});
