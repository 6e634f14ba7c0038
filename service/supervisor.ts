// The cluster supervisor (CLEARANCE_WORKERS above 1): forks the workers, prints the banner once
// the first is ready, replaces a worker that dies, relays each write's changes to the other
// workers before the write is answered (worker-caches.ts), and on SIGTERM/SIGINT stops them all
// gracefully (each drains its decision log) before exiting.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.ts';
import { banner, type WorkerReady } from './banner.ts';
import { ChangeRelay } from './worker-caches.ts';

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/** One log line in the workers' (pino) format, so the streams read alike. */
function log(level: keyof typeof LEVELS, msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(
    `${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, role: 'supervisor', ...fields, msg })}\n`,
  );
}

const isReady = (message: unknown): message is WorkerReady =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'clearance:ready';

/**
 * V8's heap options for the workers (README, "Memory"). Left to itself, V8 gives a worker a young
 * generation of 128 MiB (two semi-spaces of 64 MiB on a 64-bit machine with a few GB): under the
 * /v1/decide load it fills with garbage before each scavenge, about 100 MB of a worker's peak of
 * 300. At 32 MiB it is scavenged four times as often, each time about as quickly (what survives is
 * what the requests in flight hold). Smaller, or the old generation collected sooner
 * (--heap-growing-percent), took a large list query 11-35% more CPU time (BENCHMARKS.md, "Memory").
 */
export const WORKER_HEAP_OPTIONS: readonly string[] = ['--max-semi-space-size=16'];

/**
 * A worker's Node options: the heap options first, then the supervisor's own (node's command
 * line: `node --max-semi-space-size=32 service/server.ts`), which win where they name the same one.
 * NODE_OPTIONS does not override them: a command-line option wins over it.
 */
export const workerExecArgv = (own: readonly string[]): string[] => [...WORKER_HEAP_OPTIONS, ...own];

/**
 * The environment a worker gets on top of the supervisor's: glibc's malloc limited to
 * config.workerMallocArenaMax arenas (2 unless MALLOC_ARENA_MAX is set). By default glibc gives
 * each thread that allocates an arena of its own, up to eight per core (the serving thread, the
 * decision log's writer thread, libuv's pool, V8's helpers), and each keeps what was freed in it:
 * 23 MB of a worker's peak in seven arenas. Limited to two, the tree's peak under the /v1/decide
 * load is 20-28 MB lower, req/s unchanged (BENCHMARKS.md, "Memory"). glibc reads the variable when
 * a process starts, so a single process (CLEARANCE_WORKERS=1) gets it only from its own environment.
 */
export const workerEnv = (config: Pick<Config, 'workerMallocArenaMax'>): Record<string, string> => ({
  MALLOC_ARENA_MAX: String(config.workerMallocArenaMax),
});

/** Workers in a row that die before they are ever ready: something is wrong that a restart will not mend (a port in use, a bad configuration). */
const GIVE_UP_AFTER = 5;

export function supervise(config: Config): void {
  let stopping = false;
  let shown = false;
  // The banner waits for every first worker that lives to be ready: any one of them may be the
  // one that made the bootstrap token.
  let expected = config.workers;
  const firstReady: WorkerReady[] = [];
  const ready = new Set<number>();
  // Restarts in a row, for the backoff; a worker that ran a minute ends the run.
  let restarts = 0;
  let neverReady = 0;
  // Exit non-zero when a worker did not stop cleanly: its queue may not all be written.
  let exitCode = 0;
  const started = new Map<number, number>();
  const relay = new ChangeRelay((msg, fields) => log('warn', msg, fields));
  process.on('exit', () => relay.close());

  const showBanner = () => {
    if (shown || firstReady.length === 0 || firstReady.length < expected) return;
    shown = true;
    const made = firstReady.filter((m) => m.token !== null);
    // Only one worker can make the bootstrap token (an advisory lock); say so loudly if not.
    if (made.length > 1) log('warn', `${made.length} workers made a bootstrap token; showing the first`);
    process.stdout.write(banner({ ...(firstReady[0] as WorkerReady), token: made[0]?.token ?? null }, config));
  };

  const fork = (first: boolean): Worker => {
    const worker = cluster.fork(workerEnv(config));
    started.set(worker.id, Date.now());
    worker.on('message', (message: unknown) => {
      if (relay.onMessage(worker, message) || !isReady(message)) return;
      ready.add(worker.id);
      neverReady = 0;
      if (first && !shown) {
        firstReady.push(message);
        showBanner();
      } else if (message.token !== null) {
        log('info', 'a replacement worker made the bootstrap token; it printed it on stdout (not in this banner)', {
          worker: worker.id,
        });
      }
    });
    worker.on('exit', () => {
      if (first && !ready.has(worker.id)) {
        expected -= 1;
        showBanner();
      }
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    relay.onExit(worker);
    if (stopping) {
      // A worker that was never ready answered nothing: its end loses nothing, however it came.
      if (code !== 0 && ready.has(worker.id)) {
        exitCode = 1;
        log('error', `worker ${worker.process.pid} did not stop cleanly (${signal ?? `exit code ${code}`})`, {
          code,
          signal,
        });
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log('info', 'stopped');
        process.exit(exitCode);
      }
      return;
    }
    if (!ready.has(worker.id)) neverReady += 1;
    if (neverReady >= GIVE_UP_AFTER) {
      log('error', `${neverReady} workers in a row died before they were ready; stopping (see their log lines above)`);
      stop('SIGTERM', 1);
      return;
    }
    if (Date.now() - (started.get(worker.id) ?? 0) > 60_000) restarts = 0;
    started.delete(worker.id);
    restarts += 1;
    const delay = Math.min(250 * 2 ** Math.min(restarts - 1, 6), 15_000);
    log(
      'error',
      `worker ${worker.process.pid} died (${signal ?? `exit code ${code}`}); starting another in ${delay} ms`,
      { code, signal },
    );
    setTimeout(() => {
      if (!stopping) fork(false);
    }, delay);
  });

  function stop(signal: NodeJS.Signals, code = 0): void {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log('info', `stopping: ${signal} to every worker`, { signal });
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv) });
  log('info', `starting ${config.workers} workers`, { workers: config.workers });
  for (let i = 0; i < config.workers; i += 1) fork(true);
}
