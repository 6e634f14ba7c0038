// The fact cache's bound counts facts, not entries: an account's client list weighs one per client.
import t from 'tap';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, eventually } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

const listQuery = (app: FastifyInstance, token: string, subject: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/resources/query',
    headers: { authorization: `Bearer ${token}` },
    payload: { subject: { id: subject }, action: 'client.view', resource_type: 'client' },
  });

/** True once no change notification arrived for 200 ms (a late one would drop what is measured). */
const feedQuiet = (app: FastifyInstance) => {
  let seen = -1;
  return eventually(async () => {
    const now = app.facts.stats.invalidations;
    if (now === seen) return true;
    seen = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
    return false;
  });
};

t.test('given FACT_CACHE_MAX_ENTRIES=100, then a client list is kept while it weighs (one per client) within the bound, and loaded every time beyond it', async (t) => {
  const { app, database } = await buildTestApp(t, { factCacheMaxEntries: 100 });
  await seedFixtures(database.db);
  await sql`insert into accounts (id, name, kind) values ('big', 'Big Practice', 'practice')`.execute(database.db);
  await sql`insert into users (id, account_id, account_kind, name, role) values ('big-admin', 'big', 'practice', 'Admin', 'practice_admin')`.execute(database.db);
  await sql`insert into clients (id, account_id, account_kind, name)
            select 'big-' || i, 'big', 'practice', 'Client ' || i from generate_series(1, 60) i`.execute(database.db);
  const token = await makeToken(database.db, ['decide']);
  t.ok(await eventually(async () => app.facts.stats.enabled), 'change feed up');
  t.ok(await feedQuiet(app), 'the notifications of the seed are in');

  const missesOfSecondAsk = async (subject: string) => {
    t.equal((await listQuery(app, token, subject)).statusCode, 200);
    const misses = app.facts.stats.misses;
    t.equal((await listQuery(app, token, subject)).statusCode, 200);
    return app.facts.stats.misses - misses;
  };
  t.equal(await missesOfSecondAsk('pa'), 0, 'the 6 clients of p1: every fact from the cache');
  t.equal((await listQuery(app, token, 'big-admin')).json().allowed.length, 60);
  t.equal(await missesOfSecondAsk('big-admin'), 1, 'the 60 clients of big (over half the bound): the list loaded again, the rest cached');
});
