// One serving process: builds the app, listens, and closes gracefully on SIGTERM/SIGINT (stop
// accepting, finish in-flight requests, drain the decision log, close the pools) by one deadline set
// at the signal, exiting by force 10 s past it. Whatever way it exits, what the decision log still
// holds is spilled first. A bootstrap token is printed the moment it is made. Alone it prints the
// start-up banner; as a cluster worker it reports to the supervisor, which prints it once.
import cluster from 'node:cluster';
import { flushCompileCache } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { DRAIN_MS } from './plugins/decision-log.ts';
import type { Config } from './config.ts';
import { WorkerPeers } from './worker-caches.ts';
import { hasDemoExample } from './data/demo-data.ts';
import { banner, type WorkerReady } from './banner.ts';

/**
 * A stop still running this long after its deadline (a request hanging on the database holds it
 * open) ends by force: the time to spill and close the pools once the decision log's drain ends.
 */
const FORCED_EXIT_AFTER_DEADLINE_MS = 10_000;

export async function serve(config: Config): Promise<void> {
  // Signals are handled from the first moment: one that arrives while the app is being built
  // stops it as soon as it exists (nothing has been answered yet), not by the default handler.
  let app: FastifyInstance | null = null;
  let stopping = false;
  let stopSignal: string | null = null;
  /** Stops gracefully, then exits with exitCode (1 whenever the stop itself fails or is forced). */
  const stop = async (reason: string, exitCode = 0) => {
    const running = app;
    if (running === null) {
      stopSignal ??= reason;
      return;
    }
    if (stopping) return;
    stopping = true;
    running.log.info({ reason }, 'stopping: no new connections, finishing in-flight requests');
    // The stop's one deadline: the decision log drains until it, then spills what the database
    // has not taken; the forced exit counts from it (and the exit handler below spills what came after).
    const deadline = Date.now() + DRAIN_MS;
    running.decisionLog.stop(deadline);
    const forcedAt = deadline + FORCED_EXIT_AFTER_DEADLINE_MS;
    const force = setTimeout(() => {
      const after = (DRAIN_MS + FORCED_EXIT_AFTER_DEADLINE_MS) / 1000;
      running.log.error(`graceful stop still running ${after} s after the signal, past its deadline; exiting`);
      process.exit(1);
    }, forcedAt - Date.now());
    force.unref();
    try {
      await running.close();
      running.log.info('stopped');
      process.exit(exitCode);
    } catch (error) {
      running.log.error({ err: error }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // The last word on every way out (the forced exit, a failed listen, an uncaught error): answered
  // entries the database has not taken, a write under way included, go to the spill (masked).
  process.on('exit', () => app?.decisionLog.spillNow());

  // A bootstrap token is made once, on first start, during the background migration; it is printed
  // on stdout (never logged) as soon as it is committed, whatever happens next — a failed listen,
  // a signal during start-up, a worker dying before it is ready — for it is never made again.
  let newToken: string | null = null;
  app = await buildApp({
    config,
    // A worker's cache is kept in step with its fellows' writes through the supervisor.
    ...(cluster.isWorker ? { peers: new WorkerPeers() } : {}),
    onBootstrapToken: (token) => {
      newToken = token;
      process.stdout.write(tokenNotice(token));
    },
  });
  if (stopSignal !== null) {
    await stop(stopSignal);
    return;
  }

  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    app.log.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}`);
    // A graceful stop, not an exit on the spot: the migration under way ends (a bootstrap token it
    // makes is printed) and the embedded database is closed cleanly.
    await stop('listen failed', 1);
    return;
  }

  await app.databaseStatus.whenMigrated;
  if (stopping) return;
  const demo = await hasDemoExample(app.database.db).catch(() => false);
  const ready = {
    address,
    engine: app.database.engine,
    revision: app.policy.engine?.revision ?? null,
    token: newToken,
    demo,
  };
  if (cluster.isWorker) process.send?.({ type: 'clearance:ready', ...ready } satisfies WorkerReady);
  else process.stdout.write(banner(ready, config));
  // Written now rather than at exit, so that a process stopped with kill -9 has left it too.
  flushCompileCache();
}

/** The bootstrap token, printed the moment it is made. */
export function tokenNotice(token: string): string {
  return `\nClearance made its bootstrap admin token (shown once, keep it): ${token}\n\n`;
}
