// CLEARANCE_WORKERS: several processes serve one port; the supervisor replaces a worker that dies
// and stops them all gracefully, every answer logged.
import { createServer } from 'node:net';
import t from 'tap';
import { processTree } from '../../bench/processes.ts';
import { eventually } from '../helpers/app.ts';
import { createPostgresDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { ask, burst, checkLogAgainstAnswers } from '../helpers/burst.ts';
import { startServer } from '../helpers/server-process.ts';

t.setTimeout(300_000);

/** The worker processes under the supervisor. */
const childrenOf = (pid: number) => processTree(pid).filter((p) => p !== pid);

t.test('given CLEARANCE_WORKERS with the embedded engine, then the service refuses to start naming it', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, ['service/server.ts'], {
    env: { ...process.env, DATABASE_URL: '', CLEARANCE_WORKERS: '2' },
    encoding: 'utf8',
  });
  t.equal(run.status, 2);
  t.match(run.stderr, /^clearance: invalid configuration: CLEARANCE_WORKERS above 1 needs DATABASE_URL/);
});

t.test(
  'given two workers on PostgreSQL',
  { skip: TEST_ENGINE !== 'postgres' && 'workers need DATABASE_URL' },
  async (t) => {
    const server = await startServer(t, { CLEARANCE_WORKERS: '2', CLEARANCE_ADMIN_TOKEN: '', LOG_LEVEL: 'info' });
    const supervisor = server.child.pid as number;
    t.ok(await eventually(async () => childrenOf(supervisor).length === 2, 30_000), 'two worker processes');
    t.ok(
      await eventually(async () => /Clearance is listening/.test(server.output()), 30_000),
      'the banner, once every worker is ready',
    );
    t.match(server.output(), /Clearance is listening on .*2 workers/);
    t.equal(server.output().match(/Clearance is listening/g)?.length, 1, 'one banner');
    const printed = /admin token \(shown once, keep it\): (clr_\S+)/.exec(server.output())?.[1];
    t.ok(printed, 'the bootstrap token is printed');
    const bootstrap = await server.query<{ n: string }>('select count(*) as n from api_tokens where bootstrap');
    t.equal(Number(bootstrap[0]?.n), 1, 'workers starting together make one bootstrap token');

    const askOne = async () => {
      const response = await fetch(`${server.base}/v1/decide`, {
        method: 'POST',
        headers: { authorization: `Bearer ${printed}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({
          subject: { id: 'sam' },
          action: 'client.view',
          resource: { type: 'client', id: 'acme' },
        }),
      });
      return { status: response.status, body: (await response.json()) as { allow: boolean; decision_id: string } };
    };
    const answered: Array<{ id: string; allow: boolean }> = [];
    for (let i = 0; i < 40; i++) {
      const { status, body } = await askOne();
      t.equal(status, 200);
      answered.push({ id: body.decision_id, allow: body.allow });
    }
    const workersThatAnswered = new Set(
      [...server.output().matchAll(/"pid":(\d+),[^\n]*"msg":"request completed"/g)].map((m) => m[1]),
    );
    t.equal(workersThatAnswered.size, 2, 'both workers answered');

    t.test('when a worker is killed, then another takes its place and the service keeps answering', async (t) => {
      // Buffered mode: what a killed worker answered but had not yet written would be lost (durable
      // mode is for that); let the log catch up first.
      t.ok(
        await eventually(
          async () =>
            Number((await server.query<{ n: string }>('select count(*) as n from decision_log'))[0]?.n) >=
            answered.length,
          30_000,
        ),
        'logged so far',
      );
      const [victim] = childrenOf(supervisor);
      process.kill(victim as number, 'SIGKILL');
      t.ok(
        await eventually(
          async () => childrenOf(supervisor).length === 2 && !childrenOf(supervisor).includes(victim as number),
          30_000,
        ),
        'replaced',
      );
      for (let i = 0; i < 10; i++) {
        const { status, body } = await askOne();
        t.equal(status, 200);
        answered.push({ id: body.decision_id, allow: body.allow });
      }
    });

    t.test(
      'when SIGTERM comes in the middle of a burst, then every worker stops gracefully, each 200 is logged once as answered and every other answer is a 503 with no entry, or none',
      async (t) => {
        const jobs = Array.from({ length: 600 }, (_, i) =>
          i % 20 === 0
            ? () =>
                ask(
                  server,
                  '/v1/decide/batch',
                  {
                    requests: Array.from({ length: 20 }, (_, k) => ({
                      subject: { id: ['sam', 'lee', 'ada'][k % 3] },
                      action: 'client.view',
                      resource: { type: 'client', id: 'acme' },
                    })),
                  },
                  printed,
                )
            : () =>
                ask(
                  server,
                  '/v1/decide',
                  {
                    subject: { id: ['sam', 'lee', 'ada'][i % 3] },
                    action: 'client.edit',
                    resource: { type: 'client', id: 'globex' },
                  },
                  printed,
                ),
        );
        const answers = await burst(jobs, 16, (answered) => {
          if (answered === jobs.length / 2) server.child.kill('SIGTERM');
        });
        const code = await server.exited;
        t.equal(
          code,
          0,
          `exit 0 (log: ${server
            .output()
            .split('\n')
            .filter((l) => /"role":"supervisor"|"level":[56]0/.test(l))
            .join('\n')
            .slice(-1500)})`,
        );
        await checkLogAgainstAnswers(t, server, answers, answered);
      },
    );
  },
);

t.test(
  'given the port is taken, then the supervisor stops trying after five workers die and exits 1',
  { skip: TEST_ENGINE !== 'postgres' && 'workers need DATABASE_URL' },
  async (t) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.teardown(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    // Each worker migrates its database before it finds the port taken: one of this test's own.
    const database = await createPostgresDatabase();
    t.teardown(() => database.drop());
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['service/server.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        CLEARANCE_WORKERS: '2',
        PORT: String(port),
        CLEARANCE_ADMIN_TOKEN: 'x'.repeat(20),
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => child.kill('SIGKILL'));
    let output = '';
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.equal(code, 1);
    t.match(output, /5 workers in a row died before they were ready; stopping/);
  },
);
