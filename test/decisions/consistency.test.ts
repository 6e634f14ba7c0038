// Consistency tokens: every write answers with one (header, and body where there is one); a
// decision passing {"at_least": token} on another replica is answered from facts that include the
// write, from its cache once its feed delivered the transaction, else from the database; "fresh"
// never uses the cache; a malformed token is a 400 naming the field.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t from 'tap';
import { openDatabase, type DatabaseHandle } from '../../service/data/connect.ts';
import { sql } from 'kysely';
import { AppliedTransactions } from '../../service/domain/consistency.ts';
import { FACTS_CHANNEL } from '../../service/domain/facts.ts';
import { appOn, eventually, migrated, silentFeed } from '../helpers/app.ts';
import { ADMIN_TOKEN, api, errorOf, seedPractice } from '../helpers/context.ts';
import { createPostgresDatabase, emptyDatabase, migratedDatabase, TEST_ENGINE } from '../helpers/database.ts';

// Two apps per replica pair on the embedded engine take a while on a busy machine.
t.setTimeout(300_000);

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * Two replicas (two apps, as two processes would be) on one database, each with its own cache and
 * change feed. With silentB, B's feed comes up but delivers nothing: its cache is used and only
 * a consistency token (or "fresh") can make it read the database.
 */
async function replicas(t: Teardown, silentB: boolean): Promise<{ a: FastifyInstance; b: FastifyInstance }> {
  let handles: [DatabaseHandle, DatabaseHandle];
  if (TEST_ENGINE === 'postgres') {
    const created = await createPostgresDatabase();
    t.teardown(() => created.drop());
    handles = [
      await openDatabase({ databaseUrl: created.url, dataDir: null }),
      await openDatabase({ databaseUrl: created.url, dataDir: null }),
    ];
  } else {
    // One embedded instance, two listeners on it; only A closes it.
    const shared = await emptyDatabase(t);
    handles = [shared, { ...shared, close: async () => undefined }];
  }
  if (silentB) handles[1] = silentFeed(handles[1]);
  const build = async (database: DatabaseHandle) => {
    const app = await migrated(await appOn(t, database, { adminToken: ADMIN_TOKEN }));
    if (!(await eventually(async () => app.facts.stats.enabled))) throw new Error('the change feed did not come up');
    return app;
  };
  const a = await build(handles[0]);
  return { a, b: await build(handles[1]) };
}

const ask = (app: FastifyInstance, subject: string, client: string, consistency?: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: {
      subject: { id: subject },
      action: 'client.view',
      resource: { type: 'client', id: client },
      ...(consistency === undefined ? {} : { consistency }),
    },
  });

const allowOf = (response: LightMyRequestResponse): boolean => {
  if (response.statusCode !== 200) throw new Error(`decide answered ${response.statusCode}: ${response.body}`);
  return (response.json() as { allow: boolean }).allow;
};

const tokenOf = (response: LightMyRequestResponse): string => {
  const token = response.headers['clearance-consistency-token'];
  if (typeof token !== 'string') throw new Error(`no consistency token on ${response.statusCode} ${response.body}`);
  return token;
};

t.test(`given the context API on ${TEST_ENGINE}, and a second replica with a working change feed`, async (t) => {
  const { a, b } = await replicas(t, false);
  const admin = api(a);
  await seedPractice(admin);

  t.test(
    'when a write answers with a body, then the header and the body carry the same consistency token',
    async (t) => {
      const writes: Array<[string, () => Promise<LightMyRequestResponse>]> = [
        ['PUT account', () => admin.put('/v1/accounts/p1', { kind: 'practice', name: 'Renamed' })],
        ['PUT user', () => admin.put('/v1/accounts/p1/users/p1-kim', { name: 'Kim', role: 'standard' })],
        [
          'PATCH user',
          () => admin.patch('/v1/accounts/p1/users/p1-kim', { status: 'suspended' }, 'application/merge-patch+json'),
        ],
        ['PUT allocations', () => admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme'] })],
        ['PUT client', () => admin.put('/v1/accounts/p1/clients/p1-stark', { name: 'Stark' })],
        [
          'PUT item',
          () => admin.put('/v1/accounts/p1/items/p1-claim', { kind: 'expense_claim', owner_user_id: 'p1-std' }),
        ],
        [
          'a sync',
          () =>
            admin.post('/v1/accounts/p1/sync/ledger-access', {
              records: [{ user_id: 'p1-lee', client_id: 'p1-acme' }],
            }),
        ],
        ['POST token', () => admin.post('/v1/tokens', { name: 'app', scopes: ['decide'] })],
      ];
      const seen = new Set<string>();
      for (const [what, write] of writes) {
        const response = await write();
        t.ok(response.statusCode < 300, `${what}: ${response.statusCode}`);
        const token = tokenOf(response);
        t.equal(response.json().consistency_token, token, `${what}: the body's token is the header's`);
        seen.add(token);
      }
      t.equal(seen.size, writes.length, 'each write its own token');
    },
  );

  t.test('when a write answers 204, then the header carries its token', async (t) => {
    const made = (await admin.post('/v1/tokens', { name: 'to revoke', scopes: ['decide'] })).json() as { id: string };
    for (const [what, response] of [
      ['DELETE allocations', await admin.del('/v1/accounts/p1/users/p1-std/allocations')],
      ['DELETE item', await admin.del('/v1/accounts/p1/items/p1-claim')],
      ['DELETE token', await admin.del(`/v1/tokens/${made.id}`)],
    ] as const) {
      t.equal(response.statusCode, 204, what);
      t.match(tokenOf(response), /\S/, `${what}: a token`);
    }
  });

  t.test(
    'when a write changes nothing, then it still answers with a token, which this process comes to cover',
    async (t) => {
      const response = await admin.put('/v1/accounts/p1', { kind: 'practice', name: 'Renamed' });
      t.equal(response.statusCode, 200);
      const token = tokenOf(response);
      const fromCache = async () => {
        const bypassed = a.facts.stats.bypassed.at_least;
        t.equal(allowOf(await ask(a, 'p1-admin', 'p1-acme', { at_least: token })), true);
        return a.facts.stats.bypassed.at_least === bypassed;
      };
      t.ok(await eventually(fromCache), 'answered from the cache once the feed delivered it');
    },
  );

  t.test(
    'when a write answers on the embedded engine, then its process already covers its token (PGlite delivers notifications at commit)',
    { skip: TEST_ENGINE !== 'pglite' && 'PostgreSQL delivers them a moment later' },
    async (t) => {
      const token = tokenOf(await admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-globex'] }));
      const bypassed = a.facts.stats.bypassed.at_least;
      t.equal(allowOf(await ask(a, 'p1-std', 'p1-globex', { at_least: token })), true);
      t.equal(a.facts.stats.bypassed.at_least, bypassed, 'answered from the cache at once');
    },
  );

  t.test('when a write is refused, then no token comes with the refusal', async (t) => {
    const response = await admin.put('/v1/accounts/p1/users/p1-kim', { name: 'Kim', role: 'user_admin' });
    t.equal(response.statusCode, 400);
    t.equal(response.headers['clearance-consistency-token'], undefined);
    t.equal(response.json().consistency_token, undefined);
  });

  t.test('when a GET reads a record, then it carries no token', async (t) => {
    const response = await admin.get('/v1/accounts/p1');
    t.equal(response.statusCode, 200);
    t.equal(response.headers['clearance-consistency-token'], undefined);
    t.notOk('consistency_token' in response.json());
  });

  const decideWith = (url: string, payload: object, headers: Record<string, string> = {}) =>
    a.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers }, payload });
  const question = { subject: { id: 'p1-admin' }, action: 'client.view', resource: { type: 'client', id: 'p1-acme' } };
  for (const [what, send, field] of [
    [
      'a decide with a malformed token',
      () => decideWith('/v1/decide', { ...question, consistency: { at_least: 'not-a-token' } }),
      'consistency.at_least',
    ],
    [
      'a decide with a token out of range',
      () => decideWith('/v1/decide', { ...question, consistency: { at_least: `ct1.${'9'.repeat(20)}` } }),
      'consistency.at_least',
    ],
    [
      'a batch with a malformed token',
      () => decideWith('/v1/decide/batch', { requests: [question], consistency: { at_least: 'ct1.x' } }),
      'consistency.at_least',
    ],
    [
      'a list query with a malformed token',
      () =>
        decideWith('/v1/resources/query', {
          subject: question.subject,
          action: 'client.view',
          resource_type: 'client',
          consistency: { at_least: '' },
        }),
      'consistency.at_least',
    ],
    [
      'a decide with an unknown consistency',
      () => decideWith('/v1/decide', { ...question, consistency: 'stale' }),
      'consistency',
    ],
    [
      'a batch item with its own consistency',
      () => decideWith('/v1/decide/batch', { requests: [{ ...question, consistency: 'fresh' }] }),
      'requests[0].consistency',
    ],
    [
      'the OPA path with a malformed header',
      () =>
        decideWith('/v1/data/clearance/decision', { input: question }, { 'clearance-consistency': 'at_least=ct1.' }),
      'Clearance-Consistency',
    ],
    [
      'the OPA path with an unknown header value',
      () => decideWith('/v1/data/clearance/decision', { input: question }, { 'clearance-consistency': 'latest' }),
      'Clearance-Consistency',
    ],
  ] as const) {
    t.test(`when ${what} comes, then 400 names ${field} and nothing is decided`, async (t) => {
      const logged = a.metrics.decisions;
      const before = (await logged.get()).values.reduce((n, v) => n + v.value, 0);
      const response = await send();
      t.equal(response.statusCode, 400, response.body);
      t.equal(errorOf(response).details?.field, field);
      t.equal(
        (await logged.get()).values.reduce((n, v) => n + v.value, 0),
        before,
        'no decision counted',
      );
    });
  }

  t.test(
    "when the other replica has applied a write's transaction, then a decision there with its token is answered from its cache",
    async (t) => {
      await admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme'] });
      t.ok(await eventually(async () => allowOf(await ask(b, 'p1-std', 'p1-acme'))), 'B follows');
      const token = tokenOf(await admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: [] }));
      t.ok(await eventually(async () => allowOf(await ask(b, 'p1-std', 'p1-acme')) === false), 'the feed brought it');
      // The write may reach B as more than one notification: wait until asking again loads nothing.
      t.ok(
        await eventually(async () => {
          const before = b.facts.stats.misses;
          await ask(b, 'p1-std', 'p1-acme');
          return b.facts.stats.misses === before;
        }),
        "B's cache holds the facts",
      );
      const { at_least: bypassed } = b.facts.stats.bypassed;
      const misses = b.facts.stats.misses;
      t.equal(allowOf(await ask(b, 'p1-std', 'p1-acme', { at_least: token })), false);
      t.equal(b.facts.stats.bypassed.at_least, bypassed, 'not bypassed');
      t.equal(b.facts.stats.misses, misses, 'every fact from the cache');
    },
  );
});

t.test(`given two replicas on ${TEST_ENGINE} and one whose change feed delivers nothing`, async (t) => {
  const { a, b } = await replicas(t, true);
  const admin = api(a);
  await seedPractice(admin);
  const allocate = (clientIds: string[]) =>
    admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: clientIds });
  tokenOf(await allocate(['p1-acme']));
  t.equal(allowOf(await ask(b, 'p1-std', 'p1-acme', 'fresh')), true, 'B sees the allocation (from the database)');
  t.equal(allowOf(await ask(b, 'p1-std', 'p1-acme')), true, 'and caches it');

  const revoked = tokenOf(await allocate([]));
  t.equal(allowOf(await ask(a, 'p1-std', 'p1-acme')), false, 'A, which made the write, sees it');
  t.equal(
    allowOf(await ask(b, 'p1-std', 'p1-acme')),
    true,
    'B without a token answers from its cache: the feed never told it',
  );

  t.test(
    "when B is asked with the write's token, then it reads the database and sees the write, every time",
    async (t) => {
      const bypassed = b.facts.stats.bypassed.at_least;
      for (let i = 0; i < 5; i++) t.equal(allowOf(await ask(b, 'p1-std', 'p1-acme', { at_least: revoked })), false);
      t.equal(b.facts.stats.bypassed.at_least - bypassed, 5, 'each from the database');
    },
  );

  t.test('when B is asked "fresh", then it reads the database', async (t) => {
    t.equal(allowOf(await ask(b, 'p1-std', 'p1-acme', 'fresh')), false);
  });

  t.test('when the batch, list query and OPA paths pass the token, then they see the write too', async (t) => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const question = { subject: { id: 'p1-std' }, action: 'client.view', resource: { type: 'client', id: 'p1-acme' } };
    const batch = await b.inject({
      method: 'POST',
      url: '/v1/decide/batch',
      headers,
      payload: { requests: [question], consistency: { at_least: revoked } },
    });
    t.same(
      batch.json().results.map((r: { allow: boolean }) => r.allow),
      [false],
    );
    const list = await b.inject({
      method: 'POST',
      url: '/v1/resources/query',
      headers,
      payload: {
        subject: { id: 'p1-std' },
        action: 'client.view',
        resource_type: 'client',
        consistency: { at_least: revoked },
      },
    });
    t.same(list.json().allowed, []);
    const opa = await b.inject({
      method: 'POST',
      url: '/v1/data/clearance/decision',
      headers: { ...headers, 'clearance-consistency': `at_least=${revoked}` },
      payload: { input: question },
    });
    t.equal(opa.json().result.allow, false);
    const fresh = await b.inject({
      method: 'POST',
      url: '/v1/data/clearance/decision',
      headers: { ...headers, 'clearance-consistency': 'fresh' },
      payload: { input: question },
    });
    t.equal(fresh.json().result.allow, false);
  });
});

t.test(
  `given a migrated ${TEST_ENGINE} database, when a fact changes in plain SQL, then its notification names the row and the transaction`,
  async (t) => {
    const database = await migratedDatabase(t);
    const heard: string[] = [];
    let up!: () => void;
    const listening = new Promise<void>((resolve) => (up = resolve));
    const stop = database.listen(FACTS_CHANNEL, {
      onNotify: (payload) => heard.push(payload),
      onUp: () => up(),
      onDown: () => undefined,
    });
    t.teardown(stop);
    await listening;
    const xid = await database.db.transaction().execute(async (trx) => {
      await sql`insert into accounts (id, name, kind) values ('p:1', 'P', 'practice')`.execute(trx);
      await sql`insert into users (id, account_id, account_kind, name, role) values ('u:1', 'p:1', 'practice', 'U', 'standard')`.execute(
        trx,
      );
      return (await sql<{ xid: string }>`select pg_current_xact_id()::text as xid`.execute(trx)).rows[0]?.xid;
    });
    t.ok(await eventually(async () => heard.length === 2), 'two notifications');
    t.same(heard, [`accounts/p:1/p:1/${xid}`, `users/u:1/p:1/${xid}`]);
  },
);

t.test('given the transactions a feed applied', async (t) => {
  t.test('when a commit arrives, then its transaction is covered, and every one older than its xmin', async (t) => {
    const applied = new AppliedTransactions();
    t.notOk(applied.covers(10n), 'nothing yet');
    applied.add(12n, 10n);
    t.ok(applied.covers(12n), 'its own');
    t.ok(applied.covers(9n), 'older than the xmin: ended before it');
    t.notOk(applied.covers(10n), 'the xmin itself may still have been running');
    t.notOk(applied.covers(11n), 'nor one between');
    applied.add(11n, 10n);
    t.ok(applied.covers(11n), 'until its own commit arrives');
  });

  t.test(
    'when the horizon stays behind (a long transaction elsewhere), then at most 100,000 are remembered, the oldest forgotten first',
    async (t) => {
      const applied = new AppliedTransactions();
      for (let x = 1n; x <= 100_001n; x++) applied.add(1000n + x, 1000n);
      t.notOk(applied.covers(1001n), 'the oldest forgotten: its token is answered from the database');
      t.ok(applied.covers(1002n));
      t.ok(applied.covers(101_001n));
    },
  );
});
