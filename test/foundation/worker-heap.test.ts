// The supervisor starts its workers with V8's heap options of README "Memory" (a small young
// generation), and options given on node's own command line after them, so that those win; and
// with glibc's malloc limited to two arenas.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { processTree } from '../../bench/processes.ts';
import { WORKER_HEAP_OPTIONS, workerEnv, workerExecArgv } from '../../service/supervisor.ts';
import { eventually } from '../helpers/app.ts';
import { TEST_ENGINE } from '../helpers/database.ts';
import { startServer } from '../helpers/server-process.ts';

t.setTimeout(300_000);

t.test(
  "given options on node's command line, then a worker gets them after the heap options, so they win",
  async (t) => {
    t.same(workerExecArgv([]), WORKER_HEAP_OPTIONS);
    t.same(workerEnv({ workerMallocArenaMax: 2 }), { MALLOC_ARENA_MAX: '2' });
    t.same(workerExecArgv(['--max-semi-space-size=32', '--inspect=0']), [
      ...WORKER_HEAP_OPTIONS,
      '--max-semi-space-size=32',
      '--inspect=0',
    ]);
  },
);

t.test(
  'given two workers, then each runs with the heap options and two malloc arenas, and the supervisor without them',
  { skip: TEST_ENGINE !== 'postgres' && 'workers need DATABASE_URL' },
  async (t) => {
    const server = await startServer(t, { CLEARANCE_WORKERS: '2' });
    const supervisor = server.child.pid as number;
    const workers = () => processTree(supervisor).filter((pid) => pid !== supervisor);
    t.ok(await eventually(async () => workers().length === 2, 30_000), 'two worker processes');
    for (const pid of workers()) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      t.same(argv.slice(1, 1 + WORKER_HEAP_OPTIONS.length), WORKER_HEAP_OPTIONS, `worker ${pid}: ${argv.join(' ')}`);
    }
    const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    for (const pid of workers()) t.ok(environ(pid).includes('MALLOC_ARENA_MAX=2'), `worker ${pid}: MALLOC_ARENA_MAX=2`);
    t.notOk(
      environ(supervisor).some((line) => line.startsWith('MALLOC_ARENA_MAX=')),
      'the supervisor was started without it (glibc reads it at start)',
    );
    t.same(
      readFileSync(`/proc/${supervisor}/cmdline`, 'utf8').split('\0').slice(1, 2),
      ['service/server.ts'],
      'the supervisor itself runs without them',
    );

    // V8 took them: a worker given an option it does not know would not have started.
    const decide = await fetch(`${server.base}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: { id: 'sam' }, action: 'client.view', resource: { type: 'client', id: 'acme' } }),
    });
    t.equal(decide.status, 200, 'the workers answer');
  },
);
