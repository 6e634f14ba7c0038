// The decision log's writer thread (PostgreSQL): rows built and written off the serving thread are
// the rows the serving thread would have written itself, entry for entry; its connections are
// named; its prepared insert keeps writing as partitions come and go; a thread that cannot reach
// the database fails the write (the writer retries it), and the thread is started again after one
// ended; one that runs out of its bounded heap is started again without the bound.
import { sql } from 'kysely';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { listDecisionLogPartitions, maintainDecisionLogPartitions } from '../../service/data/decision-log.ts';
import { DecisionLogThread, WRITER_APPLICATION_NAME } from '../../service/data/decision-log-thread.ts';
import type { NewDecisionLogRow } from '../../service/data/schema.ts';
import { Metrics } from '../../service/domain/metrics.ts';
import { eventually, logWritten } from '../helpers/app.ts';
import { DAY_MS, partitionOf } from '../helpers/decision-log.ts';
import { contextApp, seedPractice } from '../helpers/context.ts';
import { createPostgresDatabase, TEST_ENGINE } from '../helpers/database.ts';

const ON_POSTGRES = TEST_ENGINE === 'postgres';
if (!ON_POSTGRES) t.pass('the writer thread is PostgreSQL only: the embedded engine writes on the serving thread');

/** Requests of every kind the log keeps: allowed, denied, unknown subject, refused input, attributes masked and escaped. */
const requests = [
  { subject: { id: 'p1-admin' }, action: 'client.view', resource: { type: 'client', id: 'p1-acme' } },
  { subject: { id: 'p1-std' }, action: 'client.edit', resource: { type: 'client', id: 'p1-acme' } },
  { subject: { id: 'nobody' }, action: 'client.view', resource: { type: 'client', id: 'p1-acme' } },
  {
    subject: { id: 'p1-std' },
    action: 'client.view',
    resource: { type: 'client', id: 'p1-globex', attributes: { note: 'caller data', 'k\u0000ey': 'v' } },
  },
  {
    subject: { id: 'p1-admin' },
    action: 'user.update',
    resource: { type: 'user', id: 'p1-std', attributes: { role: 'std\u0000', status: 'active' } },
  },
  { subject: { id: 'p1-admin' }, action: 'no.such.action', resource: { type: 'client', id: 'p1-acme' } },
];

/** What each logged entry says, in the order asked, without what differs by run (ids, times). */
async function loggedEntries(app: FastifyInstance, database: { db: unknown }, ids: string[]) {
  await logWritten(app);
  const { db } = database as { db: import('kysely').Kysely<import('../../service/data/schema.ts').Database> };
  const rows = await db
    .selectFrom('decision_log')
    .select([
      'decision_id',
      'endpoint',
      'subject_id',
      'action',
      'allow',
      'reason_codes',
      'input',
      'result',
      'masked',
      'error',
    ])
    .where('decision_id', 'in', ids)
    .execute();
  const byId = new Map(rows.map(({ decision_id, ...row }) => [decision_id, row]));
  return ids.map((id) => byId.get(id));
}

async function askAll(app: FastifyInstance): Promise<string[]> {
  const ids: string[] = [];
  const post = (url: string, payload: object) =>
    app.inject({ method: 'POST', url, headers: { authorization: 'Bearer admin-token-for-context-tests' }, payload });
  for (const request of requests) ids.push((await post('/v1/decide', request)).json().decision_id);
  const batch = (await post('/v1/decide/batch', { requests })).json() as { results: Array<{ decision_id: string }> };
  ids.push(...batch.results.map((r) => r.decision_id));
  ids.push((await post('/v1/data/clearance/decision', { input: requests[1] })).json().decision_id);
  return ids;
}

t.test('given the same decisions logged with the writer thread and without it', { skip: !ON_POSTGRES }, async (t) => {
  const entries = [];
  for (const thread of [true, false]) {
    const { app, database, admin } = await contextApp(t, {
      config: { decisionLog: { mode: 'buffered', retentionDays: 30, queueMax: 50_000, thread } },
    });
    await seedPractice(admin, 'p1');
    const ids = await askAll(app);
    t.equal(ids.filter((id) => typeof id === 'string').length, requests.length * 2 + 1, 'every answer names its entry');
    entries.push(await loggedEntries(app, database, ids));
    if (thread) {
      const named = await new pg.Client({ connectionString: database.url }).connect().then(async (client) => {
        try {
          const { rows } = await client.query(
            'select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1',
            [WRITER_APPLICATION_NAME],
          );
          return rows[0].n as number;
        } finally {
          await client.end();
        }
      });
      t.ok(named >= 1, `the rows were written over the thread's own connection (${WRITER_APPLICATION_NAME})`);
    }
  }
  const [threaded, inline] = entries as [unknown[], unknown[]];
  t.equal(threaded.length, inline.length);
  t.ok(
    threaded.every((entry) => entry !== undefined),
    'each entry is in the log',
  );
  t.same(threaded, inline, 'entry for entry, the rows the serving thread writes itself');
  const masked = threaded[3] as { masked: unknown; input: { resource: { attributes: object }; account: object } };
  t.same(Object.keys(masked.input.resource.attributes), [], 'the caller data was removed by the masks');
  t.notOk('name' in masked.input.account, 'and the account name');
});

/** Count rows decided at the start of the day `days` from now (UTC), as the writer makes them. */
function rowsOn(days: number, count: number): NewDecisionLogRow[] {
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS + days * DAY_MS;
  return Array.from({ length: count }, (_, i) => ({
    decision_id: crypto.randomUUID(),
    decided_at: new Date(day + 1000 + i),
    endpoint: 'decide' as const,
    subject_id: `subject-${days}`,
    action: 'client.view',
    resource_type: 'client',
    resource_id: 'acme',
    allow: false,
    reason_codes: ['client_not_allocated'],
    input: '{"action":"client.view"}',
    result: '{"allow":false}',
    masked: '[]',
    duration_us: 1,
  }));
}

t.test(
  'given the thread has written through its prepared insert, when partitions are created and dropped between writes',
  { skip: !ON_POSTGRES },
  async (t) => {
    const { database } = await contextApp(t, {
      config: { decisionLog: { mode: 'buffered', retentionDays: 30, queueMax: 50_000, thread: false } },
    });
    const db = database.db as import('kysely').Kysely<import('../../service/data/schema.ts').Database>;
    const metrics = new Metrics({ processMetrics: false });
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const thread = new DecisionLogThread({ databaseUrl: database.url as string, metrics, log });
    t.teardown(() => thread.close());
    const partitionsOf = async (subject: string) =>
      (
        await db
          .selectFrom('decision_log')
          .select(sql<string>`tableoid::regclass::text`.as('partition'))
          .where('subject_id', '=', subject)
          .execute()
      ).map((row) => row.partition);

    // The app makes today's partition at start, maybe still under way.
    const hasToday = async () => (await listDecisionLogPartitions(db)).some((p) => p.name === partitionIn(0));
    t.ok(await eventually(hasToday), "today's partition is there");
    await thread.write(rowsOn(0, 3));
    t.same(await partitionsOf('subject-0'), Array(3).fill(partitionIn(0)), "today's rows in today's partition");

    const later = new Date(Date.now() + 40 * DAY_MS);
    // Maintenance that finds another's under way (the app's own) changes nothing: try again.
    let changes = { created: [] as string[], dropped: [] as string[] };
    await eventually(async () => {
      changes = await maintainDecisionLogPartitions(db, { now: later, daysAhead: 1, retentionDays: 30 });
      return changes.created.length + changes.dropped.length > 0;
    });
    t.ok(changes.created.length > 0 && changes.dropped.length > 0, 'a partition was created and one dropped');
    t.same(await partitionsOf('subject-0'), [], "today's partition (and its rows) dropped");

    await thread.write(rowsOn(40, 2));
    t.same(
      await partitionsOf('subject-40'),
      Array(2).fill(partitionIn(40)),
      'rows of a day whose partition was made after the insert was prepared land in that partition',
    );
  },
);

/** The partition of the day `days` from now (UTC). */
const partitionIn = (days: number) => partitionOf(new Date(Date.now() + days * DAY_MS));

t.test('given a writer thread whose heap bound a batch exceeds', { skip: !ON_POSTGRES }, async (t) => {
  const { database } = await contextApp(t, {
    config: { decisionLog: { mode: 'buffered', retentionDays: 30, queueMax: 50_000, thread: false } },
  });
  const db = database.db as import('kysely').Kysely<import('../../service/data/schema.ts').Database>;
  const metrics = new Metrics({ processMetrics: false });
  const warnings: string[] = [];
  const log = { info: () => undefined, warn: (_: object, msg: string) => warnings.push(msg), error: () => undefined };
  const thread = new DecisionLogThread({
    databaseUrl: database.url as string,
    metrics,
    log,
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 12 },
  });
  t.teardown(() => thread.close());
  // 40 entries of 1 MB each: the thread holds them all at once, past its 12 MB.
  const pad = 'x'.repeat(1024 * 1024);
  const rows = rowsOn(0, 40).map((row) => ({ ...row, subject_id: 'heavy', input: JSON.stringify({ pad }) }));
  const count = async () =>
    Number(
      (
        await db
          .selectFrom('decision_log')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('subject_id', '=', 'heavy')
          .executeTakeFirstOrThrow()
      ).n,
    );

  const failed = await thread.write(rows).then(
    () => null,
    (error: Error & { code?: string }) => error,
  );
  t.equal(failed?.code, 'ELOGTHREAD', 'the write fails as the thread ends, for the writer to retry');
  t.match(warnings, [/ran out of its bounded heap/], 'said once, as a warning');
  t.equal(await count(), 0, 'nothing was written');

  await thread.write(rows);
  t.equal(await count(), 40, 'the same write, retried, goes through on a thread without the bound');
  t.equal(warnings.length, 1);
});

t.test('given a writer thread whose database refuses connections', { skip: !ON_POSTGRES }, async (t) => {
  const created = await createPostgresDatabase();
  t.teardown(() => created.drop());
  const url = new URL(created.url);
  url.port = '1';
  const metrics = new Metrics({ processMetrics: false });
  const lines: string[] = [];
  const log = {
    info: () => undefined,
    warn: (_: object, msg: string) => lines.push(msg),
    error: (_: object, msg: string) => lines.push(msg),
  };
  const thread = new DecisionLogThread({ databaseUrl: url.toString(), metrics, log });
  t.teardown(() => thread.close());

  t.test('when rows are written, then the write fails with a coded error, for the writer to retry', async (t) => {
    const error = await thread.write([]).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    t.equal(error, null, 'nothing to write needs no connection');
    const failed = await thread
      .markRefused([{ decision_id: crypto.randomUUID(), decided_at: new Date() }], {
        code: 'decision_log_unavailable',
        message: 'x',
      })
      .then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
    t.ok(failed instanceof Error);
    t.type(failed?.code, 'string', 'the error keeps its code');
  });

  t.test('when the thread is closed, then a later write starts it again', async (t) => {
    await thread.close();
    t.equal(await thread.write([]).then(() => 'written'), 'written');
  });
});
