// FACT_CACHE_MAX_ENTRIES=0: no fact is kept in memory; every decision loads every fact it needs
// from the database, so it sees a change the moment it is committed, notified or not.
import { sql } from 'kysely';
import t from 'tap';
import { contextApp, decide, seedPractice } from '../helpers/context.ts';

t.test('given FACT_CACHE_MAX_ENTRIES=0 and a change feed that delivers no notification', async (t) => {
  // The admin token from the environment: no token row is read, so every load counted is a fact.
  const { app, admin } = await contextApp(t, { silentFeed: true, config: { factCacheMaxEntries: 0 } });
  const db = app.database.db;
  await seedPractice(admin, 'p1');
  t.equal((await admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme'] })).statusCode, 200);
  const view = () => decide(app, 'p1-std', 'client.view', { type: 'client', id: 'p1-acme' });

  t.test(
    'when the same decision is asked again, then every fact is loaded from the database again, none from memory',
    async (t) => {
      const first = { ...app.facts.stats };
      t.equal((await view()).allow, true);
      const loads = app.facts.stats.misses - first.misses;
      t.ok(
        loads >= 4,
        `the first decision loaded its facts (${loads}: user, account, client, allocations, ledger access)`,
      );
      const second = { ...app.facts.stats };
      t.equal((await view()).allow, true);
      t.equal(app.facts.stats.misses - second.misses, loads, 'the second loaded each of them again');
      t.equal(app.facts.stats.hits, first.hits, 'none came from memory');
    },
  );

  t.test(
    'when a fact changes in plain SQL, with no notification and no API write to drop it, then the very next decision sees it',
    async (t) => {
      t.equal((await view()).allow, true);
      await sql`delete from allocations where user_id = 'p1-std'`.execute(db);
      t.same((await view()).codes, ['client_not_allocated']);
      await sql`update users set status = 'suspended' where id = 'p1-std'`.execute(db);
      t.same((await view()).codes, ['user_suspended']);
    },
  );
});
