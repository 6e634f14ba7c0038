// Owns the database handle: opens it, applies migrations in the background with backoff
// (so the service can answer /ready 503 while the database is away), and closes it on shutdown.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type DatabaseHandle } from '../data/connect.ts';
import { migrateToLatest } from '../data/migrate.ts';

export interface DatabaseStatus {
  /** True once migrations (and any after-migrate step) have run. */
  migrated: boolean;
  lastError: string | null;
  /** True once the app began closing. */
  closing: boolean;
  /** Resolves once migrated; never rejects (start-up retries until close). */
  whenMigrated: Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle;
    databaseStatus: DatabaseStatus;
  }
}

export interface DatabasePluginOptions {
  databaseUrl: string | null;
  dataDir: string | null;
  /** The embedded engine's shared_buffers (config.pgliteSharedBuffers). */
  pgliteSharedBuffers?: string;
  /** Use this handle instead of opening one (tests); it is still closed with the app. */
  handle?: DatabaseHandle;
  /** Runs once after migrations, before the database counts as ready (e.g. demo data). */
  afterMigrate?: (handle: DatabaseHandle) => Promise<void>;
}

/**
 * An error with its causes, as one line: "migration up failed: database "x" does not exist" (a
 * wrapper alone says nothing an operator can act on), and the innermost SQLSTATE or errno.
 */
export function describeStartError(error: unknown): { message: string; code: string | undefined } {
  const messages: string[] = [];
  let code: string | undefined;
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 10; at = at.cause, depth += 1) {
    if (at.message !== '' && messages.at(-1) !== at.message) messages.push(at.message);
    const own = (at as { code?: unknown }).code;
    if (typeof own === 'string') code = own;
  }
  return { message: messages.join(': ') || String(error), code };
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;

async function databasePlugin(app: FastifyInstance, options: DatabasePluginOptions): Promise<void> {
  const handle =
    options.handle ??
    (await openDatabase({
      databaseUrl: options.databaseUrl,
      dataDir: options.dataDir,
      ...(options.pgliteSharedBuffers === undefined ? {} : { pgliteSharedBuffers: options.pgliteSharedBuffers }),
      onPoolError: (error) => app.log.warn({ err: error }, 'database connection lost; will reconnect on next use'),
    }));

  let markMigrated!: () => void;
  const status: DatabaseStatus = {
    migrated: false,
    lastError: null,
    closing: false,
    whenMigrated: new Promise<void>((resolve) => {
      markMigrated = resolve;
    }),
  };
  app.decorate('database', handle);
  app.decorate('databaseStatus', status);

  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  const start = async () => {
    for (let attempt = 1; !closing; attempt += 1) {
      try {
        const applied = await migrateToLatest(handle.migrationDb);
        if (applied.length > 0) app.log.info({ migrations: applied }, 'applied database migrations');
        await options.afterMigrate?.(handle);
        status.migrated = true;
        status.lastError = null;
        markMigrated();
        return;
      } catch (error) {
        if (closing) return;
        const delay = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
        const { message, code } = describeStartError(error);
        status.lastError = message;
        // One line per attempt, without a stack: the cause is what an operator needs, again and again.
        app.log.warn(
          { attempt, retryInMs: delay, code },
          `database not ready (attempt ${attempt}): ${message}; retrying in ${delay} ms`,
        );
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, delay);
        });
      }
    }
  };
  const started = start();

  app.addHook('onClose', async () => {
    closing = true;
    status.closing = true;
    clearTimeout(timer);
    wake?.();
    await started;
    await handle.close();
  });
}

export default fp(databasePlugin, { name: 'database', fastify: '5.x' });
