// A stop that begins while the decision log's start-up work (partition maintenance, spill replay)
// is still waiting on the database must still write what was answered once the database lets it,
// rather than leave the writer unstarted and spill everything to a file.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { buildApp } from '../../service/app.ts';
import { openDatabase } from '../../service/data/connect.ts';
import { migrateToLatest } from '../../service/data/migrate.ts';
import { testConfig } from '../helpers/config.ts';
import { createPostgresDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

t.test(
  'given the start-up maintenance blocked on a locked log table, when the app is stopped and the lock then released, then every answer is written to the log, none spilled',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to lock a table in' },
  async (t) => {
    const created = await createPostgresDatabase();
    t.teardown(() => created.drop());
    const database = await openDatabase({ databaseUrl: created.url, dataDir: null });
    await migrateToLatest(database.migrationDb);
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide']);
    // The lock comes first: the app's first touch of decision_log is its partition maintenance.
    const locker = new pg.Client({ connectionString: created.url });
    await locker.connect();
    t.teardown(() => locker.end());
    await locker.query('begin');
    await locker.query('lock table decision_log in access exclusive mode');

    const config = testConfig({ databaseUrl: created.url });
    const app = await buildApp({ config, database, logger: false, processMetrics: false });
    await app.ready();
    await app.databaseStatus.whenMigrated;
    const answered: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/decide',
        headers: { authorization: `Bearer ${token}` },
        payload: { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } },
      });
      t.equal(response.statusCode, 200);
      answered.push(response.json().decision_id);
    }

    const closed = app.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await locker.query('rollback');
    await closed;

    const check = new pg.Client({ connectionString: created.url });
    await check.connect();
    const { rows } = await check.query<{ id: string }>('select decision_id::text as id from decision_log');
    await check.end();
    const logged = new Set(rows.map((r) => r.id));
    t.same(answered.filter((id) => !logged.has(id)), [], 'every answer is in the log');
    const spillDir = join(config.dataDir, 'decision-log-spill');
    t.same(existsSync(spillDir) ? readdirSync(spillDir) : [], [], 'nothing spilled');
  },
);
