// The cluster supervisor (CLEARANCE_WORKERS above 1): forks the workers, prints the banner once
// the first is ready, replaces a worker that dies, and on SIGTERM/SIGINT stops them all
// gracefully (each drains its decision log) before exiting.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.ts';
import { banner, type WorkerReady } from './serve.ts';

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/** One log line in the workers' (pino) format, so the streams read alike. */
function log(level: keyof typeof LEVELS, msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, role: 'supervisor', ...fields, msg })}\n`);
}

const isReady = (message: unknown): message is WorkerReady =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'clearance:ready';

export function supervise(config: Config): void {
  let stopping = false;
  let shown = false;
  // The banner waits for every first worker: any one of them may be the one that made the token.
  const firstReady: WorkerReady[] = [];
  // Restarts in a row, for the backoff; a worker that ran a minute ends the run.
  let restarts = 0;
  const started = new Map<number, number>();

  const fork = (): Worker => {
    const worker = cluster.fork();
    started.set(worker.id, Date.now());
    worker.on('message', (message: unknown) => {
      if (!isReady(message)) return;
      if (shown) {
        if (message.token !== null) log('warn', 'a replacement worker made a bootstrap token; it was not shown', { worker: worker.id });
        return;
      }
      firstReady.push(message);
      if (firstReady.length < config.workers) return;
      shown = true;
      const made = firstReady.filter((m) => m.token !== null);
      // Only one worker can make the bootstrap token (an advisory lock); say so loudly if not.
      if (made.length > 1) log('warn', `${made.length} workers made a bootstrap token; showing the first`);
      process.stdout.write(banner({ ...(firstReady[0] as WorkerReady), token: made[0]?.token ?? null }, config));
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log('info', 'stopped');
        process.exit(0);
      }
      return;
    }
    if (Date.now() - (started.get(worker.id) ?? 0) > 60_000) restarts = 0;
    started.delete(worker.id);
    restarts += 1;
    const delay = Math.min(250 * 2 ** Math.min(restarts - 1, 6), 15_000);
    log('error', `worker ${worker.process.pid} died (${signal ?? `exit code ${code}`}); starting another in ${delay} ms`, { code, signal });
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log('info', `stopping: ${signal} to every worker`, { signal });
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log('info', `starting ${config.workers} workers`, { workers: config.workers });
  for (let i = 0; i < config.workers; i += 1) fork();
}
