// Activating a policy revision as an operator does: the next decision answers it; rollback walks
// back along the activation history; a restart keeps the database's choice (on PostgreSQL) or
// takes the local build (on the embedded development engine); and a revision this process cannot
// load leaves it serving the one before, saying so on /ready and in /metrics.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { openDatabase } from '../../service/data/connect.ts';
import { appOn, buildAppBehindProxy, buildTestApp, eventually, migrated } from '../helpers/app.ts';
import { createPostgresDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import { activated, metricsText, metricValue, policyApi, revisionRoles, uploaded } from '../helpers/policy-api.ts';
import {
  archiveOf,
  localArchive,
  localFiles,
  localRevision,
  renamedAction,
  rsaKeyPair,
  signed,
  unsupportedContract,
  variant,
} from '../helpers/policy-bundles.ts';

const ADMIN = 'admin-token-for-policy-activation-tests';

const tokenId = (token: string) => token.split('_')[1] as string;

/** The revision /v1/decide answers with, and its answer, for one question every revision decides. */
async function answered(app: FastifyInstance, subject = 'pa', action = 'client.view', id = 'c_xero') {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { authorization: `Bearer ${ADMIN}` },
    payload: { subject: { id: subject }, action, resource: { type: action.split('.')[0], id } },
  });
  if (response.statusCode !== 200) throw new Error(`decide answered ${response.statusCode}: ${response.body}`);
  const body = response.json() as { allow: boolean; reasons: Array<{ code: string }>; policy_revision: string };
  return { revision: body.policy_revision, allow: body.allow, codes: body.reasons.map((r) => r.code) };
}

const readyOf = async (app: FastifyInstance) => {
  const response = await app.inject({ method: 'GET', url: '/ready' });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
};

t.test('given the local build active and four more revisions stored', async (t) => {
  const { app, database } = await buildTestApp(t, { adminToken: ADMIN });
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['policy']);
  const operator = policyApi(app, token);
  const local = localRevision();
  const [a, b] = [variant('activation-a'), variant('activation-b')];
  const renamed = renamedAction();
  const next = variant('after-the-broken-one');
  for (const bundle of [a, b, renamed, next]) await uploaded(operator, bundle.archive);
  const activations = async () =>
    Number(
      (await sql<{ n: string }>`select count(*) as n from policy_activations`.execute(database.db)).rows[0]?.n ?? 0,
    );
  const audit = async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/v1/audit?record_type=policy_revision&limit=1000',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return response.json().entries as Array<Record<string, unknown>>;
  };

  t.test('when a revision is activated, then the answer names it and every later decision answers it', async (t) => {
    const before = metricValue(await metricsText(app), 'clearance_policy_activations_total') ?? 0;
    const response = await operator.activate(a.revision);
    t.equal(response.statusCode, 200, response.body);
    t.match(response.json(), {
      revision: a.revision,
      change: 'activate',
      activated_at: String,
      activated_by: tokenId(token),
      previous_revision: local,
    });
    t.same(await answered(app), { revision: a.revision, allow: true, codes: ['top_admin'] });
    t.same(await answered(app, 'std_sel', 'client.view', 'c_qb'), {
      revision: a.revision,
      allow: false,
      codes: ['client_not_allocated'],
    });
    t.match(await readyOf(app), { status: 200, body: { policy_revision: a.revision } });
    const listed = await operator.list();
    t.same(listed.active, response.json());
    t.same(
      listed.revisions.filter((r) => r.active).map((r) => r.revision),
      [a.revision],
      'only the activated revision is marked active',
    );
    const text = await metricsText(app);
    t.same((await revisionRoles(app)).active, [a.revision], 'metrics name the revision served');
    t.equal(metricValue(text, 'clearance_policy_activations_total'), before + 1);
  });

  t.test('when the renamed-action revision is activated, then decisions follow its rules', async (t) => {
    const activation = await activated(operator.activate(renamed.revision));
    t.equal(activation.previous_revision, a.revision);
    t.same(await answered(app), { revision: renamed.revision, allow: false, codes: ['unknown_action'] });
    t.same(await answered(app, 'pa', 'item.view', 'i_client'), {
      revision: renamed.revision,
      allow: true,
      codes: ['top_admin'],
    });
  });

  t.test('when rolled back twice, then each goes one activation further back, then 409 at the start', async (t) => {
    const first = await operator.rollback();
    t.equal(first.statusCode, 200, first.body);
    t.match(first.json(), {
      revision: a.revision,
      change: 'rollback',
      activated_by: tokenId(token),
      previous_revision: local,
    });
    t.same(await answered(app), { revision: a.revision, allow: true, codes: ['top_admin'] });

    const second = await operator.rollback();
    t.equal(second.statusCode, 200, second.body);
    t.match(second.json(), { revision: local, change: 'rollback', previous_revision: null });
    t.same(await answered(app), { revision: local, allow: true, codes: ['top_admin'] });

    const count = await activations();
    const third = await operator.rollback();
    t.equal(third.statusCode, 409);
    t.equal(third.json().error.code, 'no_previous_revision');
    t.equal(await activations(), count, 'a refused rollback adds no history');
    t.equal((await answered(app)).revision, local);
    t.equal((await operator.list()).active?.revision, local);
  });

  t.test('when the active revision is activated again, then nothing changes and no history is added', async (t) => {
    const current = (await operator.list()).active;
    const count = await activations();
    const entries = (await audit()).length;
    const response = await operator.activate(local);
    t.equal(response.statusCode, 200);
    t.same(response.json(), current, 'the answer is the current activation, as it was');
    t.equal(await activations(), count);
    t.equal((await audit()).length, entries, 'nothing in the audit trail');
  });

  t.test('when an unknown or malformed revision is activated, then 404 or 400 and nothing changes', async (t) => {
    const unknown = await operator.activate('0123456789abcdef0123456789abcdef');
    t.equal(unknown.statusCode, 404);
    t.equal(unknown.json().error.code, 'revision_not_found');
    const malformed = await operator.activate('latest');
    t.equal(malformed.statusCode, 400);
    t.equal((await answered(app)).revision, local);
  });

  t.test('when a stored revision is one this service cannot serve, then 409 revision_unusable', async (t) => {
    // Stored by hand: an upload refuses it (another entrypoint contract), as it should.
    const foreign = unsupportedContract();
    await database.db
      .insertInto('policy_revisions')
      .values({
        revision: foreign.revision,
        bundle: foreign.archive,
        contract: 'clearance/v99',
        sources: [],
        size_bytes: foreign.archive.length,
        signed: false,
        created_by: 'test',
      })
      .execute();
    const count = await activations();
    for (const response of [
      await operator.activate(foreign.revision),
      await operator.put('/v1/policies/shadow', { revision: foreign.revision }),
      await operator.post(`/v1/policies/${foreign.revision}/impact`, {}),
    ]) {
      t.equal(response.statusCode, 409, response.body);
      t.equal(response.json().error.code, 'revision_unusable');
      t.match(response.json().error.message, /clearance\/v99/);
    }
    t.equal(await activations(), count);
    t.equal((await answered(app)).revision, local);
    t.equal((await operator.list()).shadow, null);
  });

  t.test('when revisions are activated and rolled back, then the audit trail has each, with its token', async (t) => {
    const entries = (await audit()).filter((e) => e.change !== 'create');
    t.match(entries, [
      { change: 'rollback', record_id: local, token_id: tokenId(token), before: { revision: a.revision } },
      {
        change: 'rollback',
        record_id: a.revision,
        token_id: tokenId(token),
        before: { revision: renamed.revision },
        after: { revision: a.revision },
      },
      {
        change: 'activate',
        record_id: renamed.revision,
        token_id: tokenId(token),
        before: { revision: a.revision },
        after: { revision: renamed.revision },
      },
      {
        change: 'activate',
        record_id: a.revision,
        token_id: tokenId(token),
        before: { revision: local },
        after: { revision: a.revision },
      },
      { change: 'activate', record_id: local, token_id: 'service:local-build', before: null },
    ]);
    t.equal(entries.length, 5);
    t.notOk(
      (await audit()).some((e) => e.record_id === b.revision && e.change !== 'create'),
      'b was never activated',
    );
  });

  // b was stored, never loaded: its bundle is read afresh when it is named active.
  const broken = b;

  t.test(
    'when a revision whose stored bundle was altered is activated behind the API, then this process goes on serving the revision before, and /ready says which it could not load',
    async (t) => {
      // The stored bytes no longer make the revision's id (another bundle's); then it is named
      // active as another process would, and every process is told.
      await sql`update policy_revisions set bundle = ${localArchive()} where revision = ${broken.revision}`.execute(
        database.db,
      );
      await sql`insert into policy_activations (revision, previous_seq, change, activated_by)
                select ${broken.revision}, max(seq), 'activate', 'test' from policy_activations`.execute(database.db);
      await sql`select pg_notify('clearance_policy', 'x')`.execute(database.db);
      t.ok(
        await eventually(async () => 'policy_pending' in (await readyOf(app)).body, 5000),
        '/ready came to name the pending revision',
      );
      const ready = await readyOf(app);
      t.equal(ready.status, 200, 'still ready: a policy answers');
      t.match(ready.body, {
        status: 'ready',
        policy_revision: local,
        policy_pending: { revision: broken.revision, error: /does not hash to its id/ },
      });
      t.same(await answered(app), { revision: local, allow: true, codes: ['top_admin'] }, 'the old rules answer');
    },
  );

  t.test('then /metrics names the served and the pending revision, and counts the failed load', async (t) => {
    const roles = await revisionRoles(app);
    t.same(roles.active, [local]);
    t.same(roles.pending, [broken.revision]);
    t.ok((metricValue(await metricsText(app), 'clearance_policy_load_failures_total') ?? 0) >= 1);
  });

  t.test('when it is also named the shadow behind the API, then /ready says the shadow is pending', async (t) => {
    await sql`insert into policy_shadow (revision, set_by) values (${broken.revision}, 'test')`.execute(database.db);
    await sql`select pg_notify('clearance_policy', 'x')`.execute(database.db);
    t.ok(
      await eventually(async () => 'policy_shadow_pending' in (await readyOf(app)).body, 5000),
      '/ready came to name the pending shadow',
    );
    const ready = await readyOf(app);
    t.equal(ready.status, 200);
    t.match(ready.body, { policy_shadow_pending: { revision: broken.revision, error: /does not hash to its id/ } });
    t.notOk('policy_shadow' in ready.body, 'no shadow is evaluated');
    t.notOk('shadow' in (await revisionRoles(app)));
    const put = await operator.put('/v1/policies/shadow', { revision: broken.revision });
    t.equal(put.statusCode, 409, 'setting it through the API is refused');
    t.equal(put.json().error.code, 'revision_unusable');
    t.equal((await operator.del('/v1/policies/shadow')).statusCode, 204);
    t.notOk('policy_shadow_pending' in (await readyOf(app)).body, 'cleared, nothing is pending');
  });

  t.test('then activating it through the API is refused, 409 revision_unusable', async (t) => {
    const response = await operator.activate(broken.revision);
    t.equal(response.statusCode, 409);
    t.equal(response.json().error.code, 'revision_unusable');
  });

  t.test('then activating a good revision serves it, and nothing is pending any more', async (t) => {
    await activated(operator.activate(next.revision));
    const ready = await readyOf(app);
    t.equal(ready.status, 200);
    t.equal(ready.body.policy_revision, next.revision);
    t.notOk('policy_pending' in ready.body);
    t.same(await revisionRoles(app), { active: [next.revision] });
    t.equal((await answered(app)).revision, next.revision);
  });

  t.test('when revisions change while decisions are being asked, then each answer is its own revision’s', async (t) => {
    const question = { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } };
    const ask = (i: number) =>
      app.inject({
        method: 'POST',
        url: i % 3 === 0 ? '/v1/decide/batch' : '/v1/decide',
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: i % 3 === 0 ? { requests: [question, question, question] } : question,
      });
    let changing = true;
    const responses: Awaited<ReturnType<typeof ask>>[] = [];
    // Eight callers asking one after another until the changes are done, while the revision changes.
    const callers = Array.from({ length: 8 }, async (_, caller) => {
      for (let i = caller; changing || i < caller + 3; i += 8) responses.push(await ask(i));
    });
    const statuses: number[] = [];
    for (const revision of [renamed.revision, next.revision, renamed.revision, next.revision]) {
      statuses.push((await operator.activate(revision)).statusCode);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    changing = false;
    await Promise.all(callers);
    t.same(statuses, [200, 200, 200, 200]);
    t.same(
      responses.filter((r) => r.statusCode !== 200).map((r) => r.body),
      [],
      'no request failed',
    );
    const answers = responses.flatMap((response) => {
      const body = response.json();
      return 'results' in body ? body.results : [body];
    }) as Array<{ policy_revision: string; allow: boolean; reasons: Array<{ code: string }> }>;
    const wrong = answers.filter((answer) => {
      const codes = answer.reasons.map((r) => r.code).join();
      if (answer.policy_revision === renamed.revision) return answer.allow || codes !== 'unknown_action';
      return !answer.allow || codes !== 'top_admin';
    });
    t.same(wrong.slice(0, 5), [], `each of ${answers.length} answers is its revision's rules (${wrong.length} not)`);
    const seen = new Set(answers.map((a) => a.policy_revision));
    t.ok(seen.has(renamed.revision) && seen.has(next.revision), `answered by both revisions: ${[...seen].join(', ')}`);
    for (const response of responses.filter((r) => 'results' in r.json())) {
      const revisions = new Set(
        (response.json().results as Array<{ policy_revision: string }>).map((r) => r.policy_revision),
      );
      t.equal(revisions.size, 1, 'a batch is decided by one revision');
    }
  });
});

/** Opens the same database again and again, as a restarted service does (on disk for the embedded engine). */
async function sameDatabase(t: Test) {
  if (TEST_ENGINE === 'postgres') {
    const created = await createPostgresDatabase();
    t.teardown(() => created.drop());
    return {
      databaseUrl: created.url,
      open: () => openDatabase({ databaseUrl: created.url, dataDir: null }),
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'clearance-restart-'));
  return { databaseUrl: null, open: () => openDatabase({ databaseUrl: null, dataDir }) };
}

/** A policy folder holding a local build other than the repository's: a new `make policies` output. */
function newLocalBuild(label: string) {
  const bundle = variant(label);
  const dir = mkdtempSync(join(tmpdir(), 'clearance-local-build-'));
  writeFileSync(join(dir, 'bundle.tar.gz'), bundle.archive);
  writeFileSync(join(dir, 'revision'), `${bundle.revision}\n`);
  return { dir, revision: bundle.revision };
}

/** Starts the service, activates a revision through the API and stops it; returns the database and the revision. */
async function activatedThenStopped(t: Test) {
  const database = await sameDatabase(t);
  const first = await migrated(
    await appOn(t, await database.open(), { adminToken: ADMIN, databaseUrl: database.databaseUrl }),
  );
  const operator = policyApi(first, ADMIN);
  const chosen = variant('chosen-by-the-operator');
  await uploaded(operator, chosen.archive);
  const activation = await activated(operator.activate(chosen.revision));
  await first.close();
  return { database, chosen: chosen.revision, activation };
}

t.test(
  'given PostgreSQL, when the service restarts with a new local build, then the active revision stays and the build is stored inactive',
  { skip: TEST_ENGINE !== 'postgres' && 'the embedded engine takes over the local build at every start' },
  async (t) => {
    const { database, chosen, activation } = await activatedThenStopped(t);
    const build = newLocalBuild('next-local-build');
    const app = await migrated(
      await appOn(t, await database.open(), {
        adminToken: ADMIN,
        databaseUrl: database.databaseUrl,
        policyDir: build.dir,
      }),
    );
    const operator = policyApi(app, ADMIN);
    const listed = await operator.list();
    t.same(listed.active, activation, 'the activation history is as the operator left it');
    t.match(
      listed.revisions.find((r) => r.revision === build.revision),
      { created_by: 'service:local-build', active: false },
      'the new local build is stored, inactive',
    );
    t.match(await readyOf(app), { status: 200, body: { policy_revision: chosen } });
    t.notOk('policy_pending' in (await readyOf(app)).body);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/decide',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { subject: { id: 'nobody' }, action: 'client.view', resource: { type: 'client', id: 'x' } },
    });
    t.equal(response.json().policy_revision, chosen, 'decisions answer the revision the operator chose');
  },
);

t.test(
  'given the embedded engine, when the service restarts with a new local build, then the local build is activated',
  { skip: TEST_ENGINE !== 'pglite' && 'with PostgreSQL a restart never changes the active revision' },
  async (t) => {
    const { database, chosen } = await activatedThenStopped(t);
    const build = newLocalBuild('next-local-build');
    const app = await migrated(
      await appOn(t, await database.open(), {
        adminToken: ADMIN,
        databaseUrl: database.databaseUrl,
        policyDir: build.dir,
      }),
    );
    const listed = await policyApi(app, ADMIN).list();
    t.match(listed.active, {
      revision: build.revision,
      change: 'activate',
      activated_by: 'service:local-build',
      previous_revision: chosen,
    });
    t.match(await readyOf(app), { status: 200, body: { policy_revision: build.revision } });
  },
);

t.test(
  'given the watch on, when make policies replaces the local build, then the new build is activated',
  async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'clearance-watch-'));
    const policyDir = join(root, 'policy');
    const write = (dir: string, archive: Buffer, revision: string) => {
      mkdirSync(dir);
      writeFileSync(join(dir, 'bundle.tar.gz'), archive);
      writeFileSync(join(dir, 'revision'), `${revision}\n`);
    };
    write(policyDir, localArchive(), localRevision());
    const { app } = await buildTestApp(t, { adminToken: ADMIN, policyDir, policyWatch: true });
    t.equal((await readyOf(app)).body.policy_revision, localRevision());
    // As scripts/build-policy.sh does: the new folder written beside, then moved over the old.
    const built = variant('watched-build');
    write(`${policyDir}.tmp`, built.archive, built.revision);
    rmSync(policyDir, { recursive: true });
    renameSync(`${policyDir}.tmp`, policyDir);
    t.ok(
      await eventually(async () => (await readyOf(app)).body.policy_revision === built.revision, 5000),
      'served within the watch interval',
    );
    t.match((await policyApi(app, ADMIN).list()).active, {
      revision: built.revision,
      activated_by: 'service:local-build',
      previous_revision: localRevision(),
    });
  },
);

t.test(
  'given PostgreSQL unreachable, when a revision is activated or rolled back, then 503 and nothing changes',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to cut' },
  async (t) => {
    const { app, proxy } = await buildAppBehindProxy(t, { adminToken: ADMIN });
    await migrated(app);
    const api = policyApi(app, ADMIN);
    const candidate = renamedAction();
    await uploaded(api, candidate.archive);
    const before = await api.list();

    proxy.cut();
    const activation = await api.activate(candidate.revision);
    t.equal(activation.statusCode, 503, activation.body);
    t.equal(activation.json().error.code, 'database_unavailable');
    t.equal((await api.rollback()).statusCode, 503);
    t.equal(app.policy.engine?.revision, localRevision(), 'this process still serves the revision it served');

    proxy.restore();
    await eventually(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200);
    const after = await api.list();
    t.same(after.active, before.active, 'the activation history is as it was');
    t.equal(app.policy.engine?.revision, localRevision());
  },
);

t.test(
  'given a verification key, when a revision stored unsigned (before the key was set) is activated, then 409 and it is not served',
  { skip: TEST_ENGINE !== 'postgres' && 'needs two starts on one PostgreSQL database' },
  async (t) => {
    const database = await sameDatabase(t);
    const keys = rsaKeyPair();
    const before = await migrated(
      await appOn(t, await database.open(), { adminToken: ADMIN, databaseUrl: database.databaseUrl }),
    );
    const unsigned = variant('stored-before-the-key');
    await uploaded(policyApi(before, ADMIN), unsigned.archive);
    await before.close();

    // The local build, signed, so that the keyed service has something to serve.
    const dir = mkdtempSync(join(tmpdir(), 'clearance-signed-build-'));
    writeFileSync(join(dir, 'bundle.tar.gz'), archiveOf(signed(localFiles(), keys.privateKey)).archive);
    const keyed = await migrated(
      await appOn(t, await database.open(), {
        adminToken: ADMIN,
        databaseUrl: database.databaseUrl,
        policyDir: dir,
        policyVerifyKey: keys.publicKey,
      }),
    );
    const operator = policyApi(keyed, ADMIN);
    const refused = await operator.activate(unsigned.revision);
    t.equal(refused.statusCode, 409, refused.body);
    t.match(refused.json().error, { code: 'revision_unusable', message: /signature/ });
    t.equal((await answered(keyed)).revision, localRevision(), 'the signed local build is served');

    // Uploaded again, signed: the stored copy becomes the signed one, and it can be activated.
    const again = await operator.upload(archiveOf(signed(unsigned.files, keys.privateKey)).archive);
    t.equal(again.statusCode, 200);
    t.match(again.json(), { revision: unsigned.revision, signed: true });
    await activated(operator.activate(unsigned.revision));
    t.equal((await answered(keyed)).revision, unsigned.revision);
  },
);
