// Wires the decision log: the queue and its writer (started once migrations ran), the daily
// partitions and retention (at start, then hourly), the replay of entries spilled at an earlier
// shutdown, and the log's stop: begun with the app's (by the deadline serve.ts set at the signal),
// drained on close, before the database plugin closes the pool.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { DecisionLogConfig } from '../config.ts';
import {
  insertDecisionLogRows,
  maintainDecisionLogPartitions,
  markDecisionLogRowsRefused,
} from '../data/decision-log.ts';
import { DecisionLogThread } from '../data/decision-log-thread.ts';
import { DecisionLog } from '../domain/decision-log/index.ts';
import type { EncodedItem } from '../domain/decision-log/queue.ts';
import type { LogStore } from '../domain/decision-log/writer.ts';

declare module 'fastify' {
  interface FastifyInstance {
    decisionLog: DecisionLog;
  }
}

export interface DecisionLogPluginOptions extends DecisionLogConfig {
  /** Where entries go that the database cannot take at shutdown. */
  spillDir: string | null;
  /** Tests: maintenance every everyMs instead of hourly, reading the time from now (a clock they move). */
  maintenance?: DecisionLogMaintenanceOptions;
}

export interface DecisionLogMaintenanceOptions {
  everyMs?: number;
  now?: () => Date;
}

const MAINTENANCE_EVERY_MS = 60 * 60 * 1000;
const PARTITION_DAYS_AHEAD = 3;
/**
 * How long a stop drains the decision log, from its start (the signal), when its owner has not
 * begun the log's stop with a deadline of its own: serve.ts does, from this same figure.
 */
export const DRAIN_MS = 20_000;
/**
 * Buffered mode, unless configured (DECISION_LOG_LINGER_MS): how long the writer lets a batch
 * gather. Batches of about 10 entries (what a process at a few thousand decisions a second wrote
 * without it) cost PostgreSQL 3 to 4 times the CPU per entry of batches of 1,000 (BENCHMARKS.md,
 * "Scaling out"); the answer does not wait for it. Durable answers wait for their commit, so
 * durable mode writes at once.
 */
const BUFFERED_LINGER_MS = 20;

async function decisionLogPlugin(app: FastifyInstance, options: DecisionLogPluginOptions): Promise<void> {
  // Batch writes, partition maintenance and the replay of a spill may take long (DatabaseHandle.longDb).
  const db = app.database.longDb;
  // On PostgreSQL, the rows are built and written by a thread of their own (the embedded engine's
  // one connection lives in this thread).
  const { url } = app.database;
  const thread =
    options.mode !== 'off' && options.thread !== false && app.database.engine === 'postgres' && url !== undefined
      ? new DecisionLogThread({ databaseUrl: url, metrics: app.metrics, log: app.log })
      : null;
  const store: LogStore =
    thread !== null
      ? thread
      : {
          write: (rows) => insertDecisionLogRows(db, rows),
          markRefused: (keys, error) => markDecisionLogRowsRefused(db, keys, error),
        };
  const log = new DecisionLog({
    mode: options.mode,
    lingerMs: options.mode === 'buffered' ? (options.lingerMs ?? BUFFERED_LINGER_MS) : 0,
    queueMax: options.queueMax,
    spillDir: options.spillDir,
    write: (rows) => store.write(rows),
    markRefused: (keys, error) => store.markRefused(keys, error),
    ...(thread === null ? {} : { writeEncoded: (items: EncodedItem[]) => thread.writeEncoded(items) }),
    masks: (entry, revision) => {
      // The revision that decided the entry masks it, though another was activated meanwhile.
      const engine = app.policy.engineFor(revision);
      if (engine === null) {
        throw new Error(
          revision === null
            ? 'no policy is loaded'
            : `revision ${revision} is no longer loaded here: its masks are unknown`,
        );
      }
      return engine.logMasks(entry);
    },
    metrics: app.metrics,
    log: app.log,
  });
  app.decorate('decisionLog', log);
  if (options.mode === 'off') {
    app.log.warn('DECISION_LOG=off: decisions are not logged (meant for benchmarks only)');
    return;
  }

  const maintain = async () => {
    try {
      const now = options.maintenance?.now?.() ?? new Date();
      const changes = await maintainDecisionLogPartitions(db, {
        now,
        daysAhead: PARTITION_DAYS_AHEAD,
        retentionDays: options.retentionDays,
      });
      if (changes.created.length + changes.dropped.length + changes.purged > 0)
        app.log.info(changes, 'decision log partitions maintained');
      if (changes.blocked.length > 0)
        app.log.warn({ days: changes.blocked }, 'decision log: rows of these days sit in the default partition');
      await log.replaySpill();
    } catch (error) {
      app.log.warn({ err: error }, 'decision log maintenance failed; retrying within the hour');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  const started = app.databaseStatus.whenMigrated.then(async () => {
    if (!closing) await maintain();
    // Also when a stop began meanwhile (maintenance can wait long on a locked table): the writer
    // is what drains the queue before the stop's deadline; without it all of it would be spilled.
    thread?.start();
    log.start();
    if (closing) return;
    timer = setInterval(() => void maintain(), options.maintenance?.everyMs ?? MAINTENANCE_EVERY_MS);
    timer.unref();
  });

  // While in-flight requests finish, none may wait for room in a full queue (that would hold the
  // stop up until the forced exit, with the queue unwritten): the log's stop lets them in past the
  // bound (no new request reaches a handler once closing, so what still comes is bounded). Its
  // deadline is the one serve.ts gave at the signal, or else DRAIN_MS from now.
  app.addHook('preClose', async () => {
    closing = true;
    log.stop(Date.now() + DRAIN_MS);
  });
  // Runs before the database plugin closes the pool (hooks close in reverse order). Without a
  // migrated database there is nothing to write to: what is queued is spilled at once. The
  // start-up work (partitions, spill replay) is waited for only until the deadline: it may hang
  // on the database too.
  app.addHook('onClose', async () => {
    closing = true;
    const migrated = app.databaseStatus.migrated;
    if (migrated) {
      let wait: NodeJS.Timeout | undefined;
      const left = Math.max(0, log.deadline - Date.now());
      await Promise.race([started, new Promise<void>((resolve) => (wait = setTimeout(resolve, left)))]);
      clearTimeout(wait);
    } else {
      log.stop(Date.now());
    }
    clearInterval(timer);
    await log.close();
    await thread?.close();
  });
}

export default fp(decisionLogPlugin, {
  name: 'decision-log',
  fastify: '5.x',
  dependencies: ['database', 'policy', 'metrics'],
});
