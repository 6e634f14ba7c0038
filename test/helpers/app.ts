// Builds the app for a test on a fresh migrated database, driven with app.inject.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildApp, type BuildOptions } from '../../service/app.ts';
import type { Config } from '../../service/config.ts';
import { openDatabase, type DatabaseHandle } from '../../service/data/connect.ts';
import type { Database } from '../../service/data/schema.ts';
import { testConfig } from './config.ts';
import { createPostgresDatabase, databaseForApp } from './database.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { eventually } from './wait.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestApp {
  app: FastifyInstance;
  database: DatabaseHandle;
}

/** What a test may inject when it builds the app (never by patching the app once built). */
export interface TestBuildOptions extends Pick<BuildOptions, 'policyEngine' | 'decisionLogMaintenance'> {
  /** Sees each change notification as it reaches the app's change feed. */
  watchFeed?: (payload: string) => void;
}

export async function buildTestApp(
  t: Teardown,
  config: Partial<Config> = {},
  { watchFeed, ...options }: TestBuildOptions = {},
): Promise<TestApp> {
  const opened = await databaseForApp(t);
  const database = watchFeed === undefined ? opened : watchingFeed(opened, watchFeed);
  return { app: await migrated(await appOn(t, database, config, options)), database };
}

/** The app on a database, quiet (no log, no process metrics) and closed at teardown; not yet ready. */
export async function appOn(
  t: Teardown,
  database: DatabaseHandle,
  config: Partial<Config> = {},
  options: Omit<Partial<BuildOptions>, 'config' | 'database'> = {},
): Promise<FastifyInstance> {
  const app = await buildApp({
    logger: false,
    processMetrics: false,
    ...options,
    config: testConfig(config),
    database,
  });
  t.teardown(() => app.close());
  return app;
}

/** The app once ready and its database migrated. */
export async function migrated(app: FastifyInstance): Promise<FastifyInstance> {
  await app.ready();
  await app.databaseStatus.whenMigrated;
  return app;
}

export { eventually } from './wait.ts';

/** The handle with a change feed that hears nothing: the cache is never told of a change. */
export const silentFeed = (handle: DatabaseHandle): DatabaseHandle => ({
  ...handle,
  listen: (channel, handlers) => handle.listen(channel, { ...handlers, onNotify: () => undefined }),
});

/** The handle with its change feed passing each notification to watch first. */
export function watchingFeed(handle: DatabaseHandle, watch: (payload: string) => void): DatabaseHandle {
  return {
    ...handle,
    listen: (channel, handlers) =>
      handle.listen(channel, {
        ...handlers,
        onNotify: (payload) => {
          watch(payload);
          handlers.onNotify(payload);
        },
      }),
  };
}

/**
 * Resolves once every change committed before the call has reached the change feed: a marker
 * change committed now arrives after them (notifications come in commit order).
 */
export async function feedCaughtUp(db: Kysely<Database>, seen: readonly string[]): Promise<boolean> {
  const marker = `feed-marker-${randomUUID()}`;
  await db.insertInto('accounts').values({ id: marker, name: 'feed marker', kind: 'business' }).execute();
  return eventually(() => seen.some((payload) => payload.includes(marker)), 10_000);
}

/** Resolves once every answer given so far is committed to the decision log. */
export async function logWritten(app: FastifyInstance, ms = 10_000): Promise<void> {
  if (!(await eventually(async () => app.decisionLog.depth === 0, ms)))
    throw new Error(`${app.decisionLog.depth} decision log entries still queued after ${ms} ms`);
}

/** A fresh PostgreSQL database and a proxy in front of it, both gone at teardown. */
async function databaseBehindProxy(t: Teardown): Promise<{ directUrl: string; proxiedUrl: string; proxy: TcpProxy }> {
  const created = await createPostgresDatabase();
  t.teardown(() => created.drop());
  const target = new URL(created.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  t.teardown(() => proxy.close());
  target.port = String(proxy.port);
  return { directUrl: created.url, proxiedUrl: target.toString(), proxy };
}

/**
 * The app on a fresh PostgreSQL database reached through a proxy the test can cut and restore.
 * Not awaited for migrations: the caller decides whether the database is up at start.
 */
export async function buildAppBehindProxy(
  t: Teardown,
  config: Partial<Config> = {},
): Promise<{ app: FastifyInstance; database: DatabaseHandle; proxy: TcpProxy; directUrl: string }> {
  const { directUrl, proxiedUrl, proxy } = await databaseBehindProxy(t);
  const database = await openDatabase({ databaseUrl: proxiedUrl, dataDir: null });
  const app = await appOn(t, database, { ...config, databaseUrl: proxiedUrl });
  return { app, database, proxy, directUrl };
}

/**
 * The app on a fresh PostgreSQL database reached directly, but with its change feed (the LISTEN
 * connection) going through a proxy the test can cut, freeze and restore: the feed fails while
 * queries still answer. Not awaited for migrations.
 */
export async function buildAppWithFeedBehindProxy(
  t: Teardown,
  config: Partial<Config> = {},
): Promise<{ app: FastifyInstance; database: DatabaseHandle; proxy: TcpProxy }> {
  const { directUrl, proxiedUrl, proxy } = await databaseBehindProxy(t);
  const feed = await openDatabase({ databaseUrl: proxiedUrl, dataDir: null });
  t.teardown(() => feed.close());
  const direct = await openDatabase({ databaseUrl: directUrl, dataDir: null });
  const database: DatabaseHandle = { ...direct, listen: feed.listen };
  const app = await appOn(t, database, { ...config, databaseUrl: directUrl });
  return { app, database, proxy };
}
