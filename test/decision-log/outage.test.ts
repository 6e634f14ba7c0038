// The decision log through database trouble: answers given while the log cannot be written are
// held and written when the database returns; a full queue makes answers wait, never drops them.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../service/app.ts';
import { openDatabase } from '../../service/data/connect.ts';
import { migrateToLatest } from '../../service/data/migrate.ts';
import { buildAppBehindProxy, eventually, logWritten } from '../helpers/app.ts';
import { testConfig } from '../helpers/config.ts';
import { createPostgresDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

const needsServer = { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to cut and to lock a table in' };

const metric = async (app: FastifyInstance, name: string) => {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
};

/** Holds an exclusive lock on decision_log from a connection of its own, so the log cannot be written. */
async function lockLog(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  await client.query('lock table decision_log in access exclusive mode');
  return {
    release: async () => {
      await client.query('rollback');
      await client.end();
    },
  };
}

const batchOf = (size: number) => ({
  requests: Array.from({ length: size }, (_, i) => ({
    subject: { id: ['pa', 'std_sel', 'std_ls'][i % 3] as string },
    action: 'client.view',
    resource: { type: 'client', id: ['c_xero', 'c_myob', 'c_qb'][i % 3] as string },
  })),
});

t.test(
  'given answers not yet logged, when the database goes away and comes back, then they are held and then written, each once',
  needsServer,
  async (t) => {
    const { app, database, proxy, directUrl } = await buildAppBehindProxy(t);
    await app.ready();
    await app.databaseStatus.whenMigrated;
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide', 'logs']);
    const lock = await lockLog(directUrl);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/decide/batch',
      headers: { authorization: `Bearer ${token}` },
      payload: batchOf(300),
    });
    t.equal(response.statusCode, 200, 'answered while the log is blocked');
    const ids = (response.json().results as Array<{ decision_id: string }>).map((r) => r.decision_id);

    proxy.cut();
    t.ok(
      await eventually(async () => (await metric(app, 'clearance_decision_log_waiting_on_database')) === 300),
      'the entries are held while the database is down',
    );
    t.equal(app.decisionLog.depth, 300);
    await lock.release();
    // The writer tries again (the lock is gone) and fails again: the database is still unreachable.
    const errors = await metric(app, 'clearance_decision_log_write_errors_total');
    t.ok(
      await eventually(async () => (await metric(app, 'clearance_decision_log_write_errors_total')) > errors, 20_000),
      'another write failed',
    );
    t.equal(app.decisionLog.depth, 300, 'still held');

    proxy.restore();
    await logWritten(app, 20_000);
    const rows = await database.db.selectFrom('decision_log').select(['decision_id']).execute();
    t.same(rows.map((r) => r.decision_id).sort(), [...ids].sort(), 'every entry written once');
    t.equal(await metric(app, 'clearance_decision_log_waiting_on_database'), 0);
    t.ok((await metric(app, 'clearance_decision_log_write_errors_total')) >= 1, 'the failed writes were counted');
  },
);

t.test(
  'given a full queue, when another answer is ready, then it waits for room instead of an entry being dropped',
  needsServer,
  async (t) => {
    const { app, database, directUrl } = await buildAppBehindProxy(t, {
      decisionLog: { mode: 'buffered', retentionDays: 30, queueMax: 1000 },
    });
    await app.ready();
    await app.databaseStatus.whenMigrated;
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide']);
    const headers = { authorization: `Bearer ${token}` };
    const lock = await lockLog(directUrl);
    t.teardown(() => lock.release().catch(() => undefined));
    t.equal(
      (await app.inject({ method: 'POST', url: '/v1/decide/batch', headers, payload: batchOf(1000) })).statusCode,
      200,
      'fills the queue',
    );

    let answered = false;
    const next = app
      .inject({ method: 'POST', url: '/v1/decide', headers, payload: batchOf(1).requests[0] })
      .then((r) => {
        answered = true;
        return r;
      });
    t.ok(
      await eventually(async () => (await metric(app, 'clearance_decision_log_backpressure_waits_total')) === 1),
      'the answer is waiting for room',
    );
    t.equal(answered, false, 'and not sent while the queue is full');

    await lock.release();
    const response = await next;
    t.equal(response.statusCode, 200);
    await logWritten(app);
    const count = await database.db
      .selectFrom('decision_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    t.equal(Number(count.n), 1001, 'nothing dropped');
  },
);

t.test(
  'given durable mode and a log that cannot be written, then the answer is refused after 10 s naming its entry, which is logged as refused',
  needsServer,
  async (t) => {
    const { app, database, directUrl } = await buildAppBehindProxy(t, {
      decisionLog: { mode: 'durable', retentionDays: 30, queueMax: 50_000 },
    });
    await app.ready();
    await app.databaseStatus.whenMigrated;
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide']);
    const lock = await lockLog(directUrl);
    t.teardown(() => lock.release().catch(() => undefined));
    const response = await app.inject({
      method: 'POST',
      url: '/v1/decide',
      headers: { authorization: `Bearer ${token}` },
      payload: { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } },
    });
    t.equal(response.statusCode, 503, 'not answered: the decision could not be logged');
    const { error } = response.json();
    t.equal(error.code, 'decision_log_unavailable');
    t.match(error.details.decision_id, /^[0-9a-f-]{36}$/);
    await lock.release();
    await logWritten(app);
    t.ok(
      await eventually(async () => {
        const row = await database.db
          .selectFrom('decision_log')
          .selectAll()
          .where('decision_id', '=', error.details.decision_id)
          .executeTakeFirst();
        return row?.allow === false && row.error?.code === 'decision_log_unavailable';
      }),
      'the entry says the answer was refused',
    );
    const row = await database.db
      .selectFrom('decision_log')
      .selectAll()
      .where('decision_id', '=', error.details.decision_id)
      .executeTakeFirstOrThrow();
    t.same(row.reason_codes, ['decision_log_unavailable']);
    t.match(row.result, { allow: true }, 'what the policy decided is kept');
  },
);

/**
 * The app on a fresh database whose decision_log was locked before it started, so that its start-up
 * partition maintenance and spill replay wait on the lock, with one decision answered meanwhile.
 */
async function appWithStartUpHeld(t: Test) {
  const created = await createPostgresDatabase();
  t.teardown(() => created.drop());
  const database = await openDatabase({ databaseUrl: created.url, dataDir: null });
  await migrateToLatest(database.db);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  const lock = await lockLog(created.url);
  t.teardown(() => lock.release().catch(() => undefined));
  const dataDir = mkdtempSync(join(tmpdir(), 'clearance-test-'));
  const app = await buildApp({
    config: testConfig({ databaseUrl: created.url, dataDir }),
    database,
    logger: false,
    processMetrics: false,
  });
  await app.ready();
  await app.databaseStatus.whenMigrated;
  const response = await app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { authorization: `Bearer ${token}` },
    payload: { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } },
  });
  t.equal(response.statusCode, 200);
  const spillDir = join(dataDir, 'decision-log-spill');
  const spilled = () => (existsSync(spillDir) ? readdirSync(spillDir).filter((f) => f.endsWith('.jsonl')) : []);
  return { app, lock, url: created.url, decisionId: response.json().decision_id as string, spillDir, spilled };
}

t.test(
  'given the start-up maintenance stuck on the database, when the app closes, then what was answered is spilled by the drain deadline',
  needsServer,
  async (t) => {
    t.setTimeout(120_000);
    const { app, lock, decisionId, spillDir, spilled } = await appWithStartUpHeld(t);
    const closed = app.close();
    t.ok(
      await eventually(async () => spilled().length > 0, 25_000),
      'spilled within the 20 s deadline, the maintenance still stuck',
    );
    t.match(readFileSync(join(spillDir, spilled()[0] as string), 'utf8'), decisionId);
    await lock.release();
    await closed;
  },
);

t.test(
  'given the start-up maintenance waiting on the database, when the app closes and the database then lets it, then what was answered is written, not spilled',
  needsServer,
  async (t) => {
    const { app, lock, url, decisionId, spilled } = await appWithStartUpHeld(t);
    const closed = app.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lock.release();
    await closed;
    t.same(spilled(), [], 'nothing spilled');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('select 1 from decision_log where decision_id = $1', [decisionId]);
    await client.end();
    t.equal(rows.length, 1, 'the answer is in the log');
  },
);
