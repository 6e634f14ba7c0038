// Node's module compile cache (service/server.ts, README "Memory"): the service turns it on, its
// workers start with it (so that, once it is warm, they never load the TypeScript stripper), and
// what they compiled is on disk as soon as they serve. NODE_DISABLE_COMPILE_CACHE=1 keeps it off.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { processTree } from '../../bench/processes.ts';
import { eventually } from '../helpers/app.ts';
import { TEST_ENGINE } from '../helpers/database.ts';
import { type ServerProcess, startServer } from '../helpers/server-process.ts';

t.setTimeout(300_000);

const cacheFolder = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-compile-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** The cache's entries (Node keeps them in a folder per Node version and build). */
const entries = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();

/** Each entry with the time it was last written: Node writes only what it had to compile. */
const written = (dir: string) => entries(dir).map((file) => `${file} ${statSync(file).mtimeMs}`);

async function stopped(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

t.test(
  "given two workers and no NODE_COMPILE_CACHE, then each worker starts with Node's default folder under the temporary folder, leaves its modules there once serving, and a second start finds them all",
  { skip: TEST_ENGINE !== 'postgres' && 'workers need DATABASE_URL' },
  async (t) => {
    const temporary = cacheFolder(t);
    const dir = join(temporary, 'node-compile-cache');
    // Empty is unset, for Node as for the service.
    const env = { CLEARANCE_WORKERS: '2', TMPDIR: temporary, NODE_COMPILE_CACHE: '' };
    const first = await startServer(t, env);
    const supervisor = first.child.pid as number;
    const workers = () => processTree(supervisor).filter((pid) => pid !== supervisor);
    t.ok(await eventually(async () => workers().length === 2, 30_000), 'two worker processes');
    for (const pid of workers()) {
      const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      t.ok(environment.includes(`NODE_COMPILE_CACHE=${dir}`), `worker ${pid} started with the cache`);
    }
    // The service's own modules and its dependencies': far more than the supervisor's few. Written
    // while the workers run, not only when they exit.
    t.ok(await eventually(async () => entries(dir).length > 100, 30_000), 'the workers wrote their modules');
    await stopped(first);
    const before = written(dir);

    // Node says what it took from the cache when asked (NODE_DEBUG_NATIVE, on stderr, which the
    // workers and their threads share with the supervisor).
    const second = await startServer(t, { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }, { replicaOf: first });
    await stopped(second);
    const output = second.output();
    const taken = (module: string) =>
      output.includes(`retrieving transpile cache for StrippedTypeScript ${pathToFileURL(resolve('service', module))}`);
    t.ok(taken('serve.ts'), 'a worker took serve.ts stripped from the cache');
    t.ok(taken('data/decision-log-worker.ts'), 'a writer thread took its module stripped from the cache');
    t.notMatch(
      output,
      /no transpile cache for StrippedTypeScript file:\S*\/service\//,
      'no module of the service had to be stripped again',
    );
    t.same(written(dir), before, 'nor was any entry written, new or again');
  },
);

t.test('given NODE_DISABLE_COMPILE_CACHE=1, then nothing is written to the cache', async (t) => {
  const dir = cacheFolder(t);
  const server = await startServer(t, { NODE_COMPILE_CACHE: dir, NODE_DISABLE_COMPILE_CACHE: '1' });
  await stopped(server);
  t.same(entries(dir), [], 'the cache folder stays empty');
});
