// /health and /ready through database outages and policy problems.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../service/app.ts';
import { readBundle, readManifest, writeBundle } from '../../service/policy/bundle.ts';
import { databaseUrl, TEST_ENGINE } from '../helpers/database.ts';
import { buildAppBehindProxy, buildTestApp, eventually } from '../helpers/app.ts';
import { testConfig } from '../helpers/config.ts';

const problemCodes = (body: string) =>
  (JSON.parse(body) as { error: { details: { problems: Array<{ code: string }> } } }).error.details.problems.map(
    (p) => p.code,
  );

t.test('given a migrated database and a built policy, then /health and /ready answer 200', async (t) => {
  const { app } = await buildTestApp(t);
  const health = await app.inject({ method: 'GET', url: '/health' });
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok' });
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(ready.statusCode, 200, ready.body);
  t.match(ready.json(), { status: 'ready', policy_revision: /^[0-9a-f]{32}$/, database: TEST_ENGINE });
});

t.test('given no revision in the database and no local build, then /ready answers 503 saying why', async (t) => {
  const { app } = await buildTestApp(t, { policyDir: mkdtempSync(join(tmpdir(), 'clearance-nopolicy-')) });
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(ready.statusCode, 503);
  t.same(problemCodes(ready.body), ['policy_not_loaded']);
  t.match(ready.json().error.message, /no policy revision is active.*no policy bundle at .*bundle\.tar\.gz/);
});

t.test('given a local build whose policy.wasm is corrupt, then /ready answers 503 saying why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-badpolicy-'));
  const files = new Map(readBundle(readFileSync('.build/policy/bundle.tar.gz')));
  files.set('policy.wasm', Buffer.from('not wasm at all'));
  const { revision: _revision, ...manifest } = readManifest(files);
  files.set('.manifest', Buffer.from(JSON.stringify(manifest)));
  writeFileSync(join(dir, 'bundle.tar.gz'), writeBundle(files));
  const { app } = await buildTestApp(t, { policyDir: dir });
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  t.equal(ready.statusCode, 503);
  t.same(problemCodes(ready.body), ['policy_not_loaded']);
  t.match(ready.json().error.message, /is not a loadable OPA WebAssembly policy/);
});

t.test(
  'given PostgreSQL unreachable at start, then /ready is 503 until it returns, and again during an outage',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to cut' },
  async (t) => {
    const { app, proxy } = await buildAppBehindProxy(t);
    proxy.cut();
    await app.ready();

    const down = await app.inject({ method: 'GET', url: '/ready' });
    t.equal(down.statusCode, 503, 'not ready while the database is unreachable');
    t.same(problemCodes(down.body), ['database_unavailable']);
    t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'but alive');
    t.equal(app.databaseStatus.migrated, false);

    proxy.restore();
    await app.databaseStatus.whenMigrated;
    t.equal(
      (await app.inject({ method: 'GET', url: '/ready' })).statusCode,
      200,
      'ready once the database answers and migrations ran',
    );

    proxy.cut();
    const outage = await app.inject({ method: 'GET', url: '/ready' });
    t.equal(outage.statusCode, 503, 'not ready during an outage');
    t.same(problemCodes(outage.body), ['database_unavailable']);

    proxy.restore();
    t.ok(
      await eventually(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200, 10_000),
      'ready again after the outage, without a restart',
    );
  },
);

t.test(
  'given PostgreSQL goes away, then reads of the context API, the decision log (its export and statistics too) and the audit trail answer 503 database_unavailable, not 500',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to cut' },
  async (t) => {
    const adminToken = 'admin-token-for-readiness-tests';
    const { app, proxy } = await buildAppBehindProxy(t, { adminToken });
    await app.ready();
    await app.databaseStatus.whenMigrated;
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } });
    t.equal((await get('/v1/accounts')).statusCode, 200, 'answers while the database is up');
    proxy.cut();
    for (const url of [
      '/v1/accounts',
      '/v1/accounts/acct-1',
      '/v1/decisions',
      '/v1/decisions/export',
      '/v1/decisions/stats',
      '/v1/audit',
      '/v1/tokens',
    ]) {
      const response = await get(url);
      t.equal(response.statusCode, 503, `${url}: ${response.body}`);
      t.equal(response.json().error.code, 'database_unavailable', url);
    }
    proxy.restore();
    t.ok(
      await eventually(async () => (await get('/v1/accounts')).statusCode === 200, 10_000),
      'answers again once it returns',
    );
  },
);

t.test(
  'given a PostgreSQL database that does not exist, then /ready names the cause and each start-up retry logs one line without a stack',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server' },
  async (t) => {
    const name = `clearance_missing_${process.pid}`;
    const cause = `database "${name}" does not exist`;
    const lines: string[] = [];
    const stream = { write: (line: string) => void lines.push(line) };
    const messages = () => lines.map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
    const app = await buildApp({
      config: testConfig({ databaseUrl: databaseUrl(name), logLevel: 'warn' }),
      logger: { level: 'warn', stream },
      processMetrics: false,
    });
    t.teardown(() => app.close());
    await app.ready();
    // On a loaded machine an attempt may time out connecting instead; the cause comes with the next.
    t.ok(
      await eventually(async () => messages().some((msg) => msg.includes(cause)), 60_000),
      'a retry names the cause',
    );
    t.ok(
      await eventually(async () => {
        const ready = await app.inject({ method: 'GET', url: '/ready' });
        return ready.statusCode === 503 && (ready.json().error.message as string).includes(cause);
      }, 30_000),
      '/ready names the cause, not only "migration up failed"',
    );
    for (const line of lines.filter((l) => l.includes('database not ready'))) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      t.equal(line.trim().split('\n').length, 1, 'one line');
      t.notOk('err' in entry || line.includes('"stack"'), 'no error object, no stack');
      t.match(entry, {
        level: 40,
        attempt: Number,
        retryInMs: Number,
        msg: /^database not ready \(attempt \d+\): .*; retrying in \d+ ms$/,
      });
      if (String(entry.msg).includes(cause)) t.equal(entry.code, '3D000', 'with its SQLSTATE');
    }
  },
);
