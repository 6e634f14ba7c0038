// Nothing answered is lost: after a graceful stop right behind a burst (buffered mode), after a
// stop that has to end by force because the database hangs, and after kill -9 under load (durable
// mode), every decision a caller received is in the log.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import t from 'tap';
import { TEST_ENGINE } from '../helpers/database.ts';
import { eventually } from '../helpers/app.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

// Real processes under load: slower than the default per-file limit on a busy machine.
t.setTimeout(600_000);

const subjects = ['ada', 'cal', 'sam', 'lee', 'max', 'eve'];
const clients = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const request = (i: number) => ({
  subject: { id: subjects[i % subjects.length] as string },
  action: i % 3 === 0 ? 'client.edit' : 'client.view',
  resource: { type: 'client', id: clients[i % clients.length] as string },
});

/** Posts to the service; the decision ids of a 200 answer, none otherwise (refused, or the process is gone). */
async function ask(server: ServerProcess, path: string, body: object): Promise<string[]> {
  try {
    const response = await fetch(`${server.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) return [];
    const answer = (await response.json()) as { decision_id?: string; results?: Array<{ decision_id: string }> };
    return answer.results ? answer.results.map((r) => r.decision_id) : [answer.decision_id as string];
  } catch {
    return [];
  }
}

const single = (server: ServerProcess, i: number) => ask(server, '/v1/decide', request(i));
const batch = (server: ServerProcess, i: number, size: number) =>
  ask(server, '/v1/decide/batch', { requests: Array.from({ length: size }, (_, k) => request(i + k)) });

/** Runs jobs with at most `width` in flight; returns every decision id answered. */
async function run(jobs: Array<() => Promise<string[]>>, width: number): Promise<string[]> {
  const answered: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++] as () => Promise<string[]>;
        answered.push(...(await job()));
      }
    }),
  );
  return answered;
}

async function missingFromLog(server: ServerProcess, answered: string[]): Promise<string[]> {
  const rows = await server.query<{ id: string }>('select decision_id::text as id from decision_log');
  const logged = new Set(rows.map((r) => r.id));
  return answered.filter((id) => !logged.has(id));
}

t.test(`given the service on ${TEST_ENGINE} (buffered log), when SIGTERM follows a burst of 5000 decisions, then every answer is in the log`, async (t) => {
  const server = await startServer(t);
  const jobs = [
    ...Array.from({ length: 40 }, (_, i) => () => batch(server, i * 100, 100)),
    ...Array.from({ length: 1000 }, (_, i) => () => single(server, i)),
  ];
  const answered = await run(jobs, 32);
  server.child.kill('SIGTERM');
  t.equal(answered.length, 5000, 'all answered');
  t.equal(await server.exited, 0, 'a clean exit');
  t.same(await missingFromLog(server, answered), [], 'none missing from the log');
});

t.test(
  'given the log table locked (writes blocked), when SIGTERM arrives, then the service waits to write what it answered before it exits',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server to lock a table in' },
  async (t) => {
    const server = await startServer(t);
    // Lock only once the start-up partition maintenance is over (an answer is written): locking
    // the partitioned table while it creates partitions can deadlock with it.
    const first = await single(server, 0);
    t.ok(await eventually(async () => (await missingFromLog(server, first)).length === 0, 30_000), 'the log writer is running');
    const locker = new pg.Client({ connectionString: server.databaseUrl as string });
    await locker.connect();
    t.teardown(() => locker.end());
    await locker.query('begin');
    await locker.query('lock table decision_log in access exclusive mode');
    const answered = await run(Array.from({ length: 20 }, (_, i) => () => batch(server, i * 100, 100)), 4);
    t.equal(answered.length, 2000, 'answered while the log cannot be written');
    server.child.kill('SIGTERM');
    const early = await Promise.race([server.exited.then(() => 'exited'), sleep(1500).then(() => 'still draining')]);
    t.equal(early, 'still draining', 'it does not exit while entries are unwritten');
    await locker.query('rollback');
    t.equal(await server.exited, 0, 'exits once the entries are written');
    t.same(await missingFromLog(server, answered), []);
  },
);

t.test(
  'given a database that hangs and a request stuck on it, when SIGTERM arrives, then what was answered is spilled before the forced exit and written at the next start',
  { skip: TEST_ENGINE !== 'postgres' && 'needs a PostgreSQL server behind a proxy to hang' },
  async (t) => {
    // The admin token from the environment: asking needs no database.
    const server = await startServer(t, {}, { proxy: true });
    const asked = Array.from({ length: 6 }, (_, i) => request(i));
    const ids = async () => new Set((await server.query<{ id: string }>('select decision_id::text as id from decision_log')).map((r) => r.id));
    // Warm up: the facts of these requests are cached, and the pool holds idle connections (each
    // read below takes one), so that a request needing the database takes one and hangs on it.
    const warm = await ask(server, '/v1/decide/batch', { requests: asked });
    t.equal(warm.length, asked.length, 'warmed up');
    const read = (signal?: AbortSignal) =>
      fetch(`${server.base}/v1/decisions?limit=1`, { headers: { authorization: `Bearer ${server.token}` }, ...(signal ? { signal } : {}) });
    t.same((await Promise.all(Array.from({ length: 8 }, () => read()))).map((r) => r.status), Array(8).fill(200));
    t.ok(await eventually(async () => (await ids()).size >= warm.length, 20_000), 'the warm-up is logged');

    server.proxy?.freeze();
    const abort = new AbortController();
    t.teardown(() => abort.abort());
    const stuck = Array.from({ length: 3 }, () => read(abort.signal).then((r) => r.status, () => 'no answer'));
    await sleep(300);
    const answered = await run(Array.from({ length: 20 }, () => () => ask(server, '/v1/decide/batch', { requests: asked })), 4);
    t.equal(answered.length, 120, 'answered from the fact cache while the database hangs');

    const stopped = Date.now();
    server.child.kill('SIGTERM');
    t.equal(await server.exited, 1, 'the stuck requests hold the stop until the forced exit');
    t.ok(Date.now() - stopped >= 29_000, `forced after ${Date.now() - stopped} ms`);
    t.same(await Promise.all(stuck), ['no answer', 'no answer', 'no answer'], 'the stuck requests were never answered');

    const spillDir = join(server.dataDir, 'decision-log-spill');
    const files = existsSync(spillDir) ? readdirSync(spillDir) : [];
    t.ok(files.length > 0 && files.every((f) => /^decisions-.*\.jsonl$/.test(f)), `spilled (${files.join(', ')})`);
    const text = files.map((f) => readFileSync(join(spillDir, f), 'utf8')).join('');
    const spilled = new Set(text.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { decision_id: string }).decision_id));
    t.same(answered.filter((id) => !spilled.has(id)), [], 'every answer not yet written is in the spill');
    t.notMatch(text, /Demo Practice/, 'masked, as the log would hold it');

    const next = await startServer(t, {}, { restartOf: server });
    t.ok(await eventually(async () => (await missingFromLog(next, answered)).length === 0, 30_000), 'written at the next start');
    t.ok(await eventually(async () => readdirSync(spillDir).length === 0, 10_000), 'the spill is gone once written');
  },
);

// On PGlite the database lives in the killed process; what it committed has reached the files
// (through the OS), so it survives the process dying, though not the machine losing power.
t.test(
  `given the service on ${TEST_ENGINE} in durable mode, when it is killed with SIGKILL under load, then every answer it gave is in the log`,
  async (t) => {
    const server = await startServer(t, { DECISION_LOG: 'durable' });
    const answered: string[] = [];
    let stop = false;
    const load = Array.from({ length: 16 }, async (_, w) => {
      for (let i = w * 100_000; !stop; i += 10) answered.push(...(w % 4 === 0 ? await batch(server, i, 10) : await single(server, i)));
    });
    await sleep(2000);
    server.child.kill('SIGKILL');
    stop = true;
    t.equal(await server.exited, null, 'killed, no clean exit');
    await Promise.all(load);
    t.ok(answered.length > 200, `answered ${answered.length} decisions under load before the kill`);
    t.same(await missingFromLog(server, answered), [], 'none missing from the log');
  },
);
