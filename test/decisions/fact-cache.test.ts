// The fact cache: its bound counts facts, not entries (an account's client list weighs one per
// client, a user's links one per link, held compactly up to three times the bound); identical loads
// under way at once are one query; and a load that an invalidation overtook is neither cached nor
// joined.
import t, { type Test } from 'tap';
import { sql, type KyselyPlugin } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { DatabaseHandle } from '../../service/data/connect.ts';
import { FactStore } from '../../service/domain/facts.ts';
import { buildTestApp, eventually, feedCaughtUp, watchingFeed } from '../helpers/app.ts';
import { migratedDatabase } from '../helpers/database.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

const listQuery = (app: FastifyInstance, token: string, subject: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/resources/query',
    headers: { authorization: `Bearer ${token}` },
    payload: { subject: { id: subject }, action: 'client.view', resource_type: 'client' },
  });

/** A fact store of its own on database, with its change feed up and the seed's notifications in. */
async function startedStore(t: Test, database: DatabaseHandle, maxEntries: number): Promise<FactStore> {
  const feed: string[] = [];
  const store = new FactStore(
    watchingFeed(database, (payload) => feed.push(payload)),
    maxEntries,
  );
  store.start();
  t.teardown(() => store.stop());
  t.ok(await eventually(async () => store.stats.enabled), 'change feed up');
  t.ok(await feedCaughtUp(database.db, feed), 'the notifications of the seed are in');
  return store;
}

t.test(
  'given FACT_CACHE_MAX_ENTRIES=100, then a client list is kept while it weighs (one per client) within the bound, and loaded every time beyond it',
  async (t) => {
    const feed: string[] = [];
    const { app, database } = await buildTestApp(
      t,
      { factCacheMaxEntries: 100 },
      { watchFeed: (payload) => feed.push(payload) },
    );
    await seedFixtures(database.db);
    await sql`insert into accounts (id, name, kind) values ('big', 'Big Practice', 'practice')`.execute(database.db);
    await sql`insert into users (id, account_id, account_kind, name, role) values ('big-admin', 'big', 'practice', 'Admin', 'practice_admin')`.execute(
      database.db,
    );
    await sql`insert into clients (id, account_id, account_kind, name)
            select 'big-' || i, 'big', 'practice', 'Client ' || i from generate_series(1, 60) i`.execute(database.db);
    const token = await makeToken(database.db, ['decide']);
    t.ok(await eventually(async () => app.facts.stats.enabled), 'change feed up');
    t.ok(await feedCaughtUp(database.db, feed), 'the notifications of the seed are in');

    const missesOfSecondAsk = async (subject: string) => {
      t.equal((await listQuery(app, token, subject)).statusCode, 200);
      const misses = app.facts.stats.misses;
      t.equal((await listQuery(app, token, subject)).statusCode, 200);
      return app.facts.stats.misses - misses;
    };
    t.equal(await missesOfSecondAsk('pa'), 0, 'the 6 clients of p1: every fact from the cache');
    t.equal((await listQuery(app, token, 'big-admin')).json().allowed.length, 60);
    t.equal(
      await missesOfSecondAsk('big-admin'),
      1,
      'the 60 clients of big (over half the bound): the list loaded again, the rest cached',
    );
  },
);

t.test(
  'given FACT_CACHE_MAX_ENTRIES=100, then a user’s links are kept up to three times the bound (held compactly, a set weighing three more than its links), and loaded every time beyond it',
  async (t) => {
    const database = await migratedDatabase(t);
    const { db } = database;
    await seedFixtures(db);
    await sql`insert into clients (id, account_id, account_kind, name)
            select 'link-' || i, 'p1', 'practice', 'Client ' || i from generate_series(1, 200) i`.execute(db);
    // A set weighs its links and three more. std_la is allocated to 147 of them (over the 100 other
    // kinds hold; weighing 150, half of 300: kept), std_mb to 148 (weighing 151, over half of 300:
    // the Lru keeps nothing that heavy).
    await sql`insert into allocations (account_id, user_id, client_id)
            select 'p1', 'std_la', 'link-' || i from generate_series(1, 147) i
            union all select 'p1', 'std_mb', 'link-' || i from generate_series(1, 148) i`.execute(db);
    const store = await startedStore(t, database, 100);

    const missesOfSecondRead = async (user: string, size: number) => {
      t.equal((await store.allocations(user)).size, size);
      const misses = store.stats.misses;
      const links = await store.allocations(user);
      t.ok(links.has('link-1') && links.has(`link-${size}`) && !links.has(`link-${size + 1}`), 'the links read');
      return store.stats.misses - misses;
    };
    t.equal(await missesOfSecondRead('std_la', 147), 0, '147 links: from the cache');
    t.equal(await missesOfSecondRead('std_mb', 148), 1, '148 links: loaded again');
  },
);

t.test(
  'given a cold cache, when a batch of 1000 decisions about one subject comes in, then each fact is loaded once, not once per decision',
  async (t) => {
    const feed: string[] = [];
    const { app, database } = await buildTestApp(t, {}, { watchFeed: (payload) => feed.push(payload) });
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide']);
    t.ok(await eventually(async () => app.facts.stats.enabled), 'change feed up');
    t.ok(await feedCaughtUp(database.db, feed), 'the notifications of the seed are in');
    const items = [
      'i_client',
      'i_client_qb',
      'claim_std_sel',
      'receipt_std_sel',
      'claim_ca',
      'claim_std_mb',
      'invoice_std_all',
    ];
    const misses = app.facts.stats.misses;
    const response = await app.inject({
      method: 'POST',
      url: '/v1/decide/batch',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        requests: Array.from({ length: 1000 }, (_, i) => ({
          subject: { id: 'std_mb' },
          action: 'item.view',
          resource: { type: 'item', id: items[i % items.length] },
        })),
      },
    });
    t.equal(response.statusCode, 200);
    const results = response.json().results as Array<{ error?: unknown }>;
    t.equal(results.length, 1000);
    t.ok(
      results.every((r) => r.error === undefined),
      'each one decided',
    );
    // The token, the user, the account, 7 items, 2 clients, the user's allocations and ledger access.
    const loaded = app.facts.stats.misses - misses;
    t.ok(loaded <= 14, `${loaded} loads`);
  },
);

/** Holds every result of the queries it is plugged into until open() (after the database answered). */
function gate() {
  let open!: () => void;
  let opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let held = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      held += 1;
      await opened;
      return args.result;
    },
  };
  return {
    plugin,
    get held() {
      return held;
    },
    open: () => open(),
    close: () => {
      opened = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
  };
}

t.test(
  'given a load under way when a change to its fact arrives, then the value it loaded is not cached and later callers do not share it',
  async (t) => {
    const database = await migratedDatabase(t);
    await seedFixtures(database.db);
    const results = gate();
    results.open();
    const feed: string[] = [];
    const store = new FactStore(
      { ...watchingFeed(database, (payload) => feed.push(payload)), db: database.db.withPlugin(results.plugin) },
      1000,
    );
    store.start();
    t.teardown(() => store.stop());
    t.ok(await eventually(async () => store.stats.enabled), 'change feed up');
    t.ok(await feedCaughtUp(database.db, feed), 'the notifications of the seed are in');

    results.close();
    const misses = store.stats.misses;
    const first = store.user('pa');
    const second = store.user('pa');
    t.ok(await eventually(async () => results.held === 1), 'the first load read the database');
    results.open();
    t.equal(await first, await second, 'two callers at once: one load, one value');
    t.equal(store.stats.misses - misses, 1);
    t.equal(store.stats.coalesced, 1);

    results.close();
    const before = store.user('std_sel');
    t.ok(await eventually(async () => results.held === 2), 'a load read the user, still active');
    const invalidations = store.stats.invalidations;
    await sql`update users set status = 'suspended' where id = 'std_sel'`.execute(database.db);
    t.ok(
      await eventually(async () => store.stats.invalidations > invalidations),
      'the change arrived while that load was under way',
    );
    const after = store.user('std_sel');
    t.ok(
      await eventually(async () => results.held === 3),
      'a caller after the change loads anew rather than share the load under way',
    );
    results.open();
    t.equal((await before)?.status, 'active', 'the load from before the change answers its own caller');
    t.equal((await after)?.status, 'suspended');
    t.equal(
      (await store.user('std_sel'))?.status,
      'suspended',
      'and what is cached is what was loaded after the change',
    );
    t.equal(store.stats.coalesced, 1, 'nothing shared across the change');
  },
);

t.test(
  'given every fact read through the cache, then each is what the database holds: every column but the two timestamps, the links and the lists in id order',
  async (t) => {
    const database = await migratedDatabase(t);
    await seedFixtures(database.db);
    const { db } = database;
    // An item of no client and owned by nobody, and a user with an XPM staff id: the nullable columns.
    await sql`insert into items (id, account_id, client_id, owner_user_id, kind) values ('loose', 'p1', null, null, 'receipt')`.execute(
      db,
    );
    await sql`update users set xpm_staff_id = 'xpm-7' where id = 'pa'`.execute(db);
    const store = await startedStore(t, database, 1000);

    // A row as a decision reads it: when it was made and last changed are not kept.
    const rows = async <T extends 'accounts' | 'users' | 'clients' | 'items'>(table: T) =>
      (
        (await db
          .selectFrom(table as 'accounts')
          .selectAll()
          .orderBy('id')
          .execute()) as unknown as Array<Record<string, unknown> & { id: string; account_id?: string }>
      ).map(({ created_at: _made, updated_at: _changed, ...row }) => row);
    const twice = async <V>(read: () => Promise<V>) => {
      const loaded = await read();
      const hits = store.stats.hits;
      const cached = await read();
      t.equal(store.stats.hits - hits, 1, 'the second read is from the cache');
      return [loaded, cached];
    };
    const byKind: Record<'accounts' | 'users' | 'clients' | 'items', (id: string) => Promise<unknown>> = {
      accounts: (id) => store.account(id),
      users: (id) => store.user(id),
      clients: (id) => store.client(id),
      items: (id) => store.item(id),
    };
    for (const table of ['accounts', 'users', 'clients', 'items'] as const) {
      for (const row of await rows(table)) {
        const [loaded, cached] = await twice(() => byKind[table](row.id));
        t.same(loaded, row, `${table} ${row.id} as loaded`, { diagnostic: false });
        t.strictSame(cached, row, `${table} ${row.id} as cached`, { diagnostic: false });
        t.same(Object.keys(cached as object), Object.keys(row), `${table} ${row.id}: the same columns`, {
          diagnostic: false,
        });
      }
    }
    t.equal((await store.item('loose'))?.client_id, null);
    t.equal((await store.user('pa'))?.xpm_staff_id, 'xpm-7');
    t.equal(await store.user('nobody'), null, 'an unknown id is null');

    for (const user of await rows('users')) {
      for (const [table, read] of [
        ['allocations', (id: string) => store.allocations(id)],
        ['ledger_access', (id: string) => store.ledgerAccess(id)],
      ] as const) {
        const ids = (await db.selectFrom(table).select('client_id').where('user_id', '=', user.id).execute()).map(
          (r) => r.client_id,
        );
        const [, cached] = await twice(() => read(user.id));
        t.same([...(cached as ReadonlySet<string>)].sort(), ids.sort(), `${table} of ${user.id}`, {
          diagnostic: false,
        });
      }
    }
    for (const account of await rows('accounts')) {
      const of = async (table: 'users' | 'clients' | 'items') =>
        (await rows(table)).filter((row) => row.account_id === account.id);
      const [, clients] = await twice(() => store.accountClients(account.id));
      t.strictSame(
        clients,
        (await of('clients')).map(({ id, account_id, ledger }) => ({ id, account_id, ledger })),
        `the clients of ${account.id}`,
      );
      const [, users] = await twice(() => store.accountUsers(account.id));
      t.strictSame(users, await of('users'), `the users of ${account.id}`);
      const [, items] = await twice(() => store.accountItems(account.id));
      t.strictSame(items, await of('items'), `the items of ${account.id}`);
    }
  },
);
