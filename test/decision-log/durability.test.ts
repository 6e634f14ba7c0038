// Nothing answered is lost: after a graceful stop right behind a burst (buffered mode), and after
// kill -9 under load (durable mode), every decision a caller received is in the log.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import t from 'tap';
import { TEST_ENGINE } from '../helpers/database.ts';
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
