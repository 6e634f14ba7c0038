// A fresh, migrated database per test file, on the engine named by CLEARANCE_TEST_ENGINE:
// "postgres" creates (and afterwards drops) its own database on the local server,
// "pglite" (the default) opens an in-memory embedded engine.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle, type Engine } from '../../service/data/connect.ts';
import { migrateToLatest } from '../../service/data/migrate.ts';

export const TEST_ENGINE: Engine = process.env.CLEARANCE_TEST_ENGINE === 'postgres' ? 'postgres' : 'pglite';
export const ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export function databaseUrl(name: string, base = ADMIN_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty PostgreSQL database; returns its URL and how to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `clearance_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  return {
    url: databaseUrl(name),
    drop: async () => {
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * Opens an empty database on the test engine for an app to own: the app closes it when it closes,
 * and the database is dropped when the test ends (after the app closed: teardowns run last first).
 */
export async function databaseForApp(t: Teardown): Promise<DatabaseHandle> {
  const created = TEST_ENGINE === 'postgres' ? await createPostgresDatabase() : null;
  if (created !== null) t.teardown(() => created.drop());
  return openDatabase({ databaseUrl: created?.url ?? null, dataDir: null });
}

/** Opens an empty database on the test engine for the test itself: closed and dropped when the test ends. */
export async function emptyDatabase(t: Teardown): Promise<DatabaseHandle> {
  const handle = await databaseForApp(t);
  t.teardown(() => handle.close());
  return handle;
}

/** Opens a database on the test engine, migrated to the latest schema. */
export async function migratedDatabase(t: Teardown): Promise<DatabaseHandle> {
  const handle = await emptyDatabase(t);
  await migrateToLatest(handle.migrationDb);
  return handle;
}
