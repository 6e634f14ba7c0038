// Applies the migrations in db/migrations (up to the latest, or down to nothing).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { FileMigrationProvider, Migrator, NO_MIGRATIONS, type MigrationResultSet } from 'kysely/migration';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations', import.meta.url));

function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
  });
}

function check(resultSet: MigrationResultSet, direction: string): string[] {
  if (resultSet.error !== undefined) {
    const failed = resultSet.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${direction} failed${failed ? ` at ${failed.migrationName}` : ''}`, {
      cause: resultSet.error,
    });
  }
  return (resultSet.results ?? []).map((r) => r.migrationName);
}

/** Applies pending migrations; returns the names applied. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  return check(await migrator(db).migrateToLatest(), 'up');
}

/** Reverts every migration; returns the names reverted. */
export async function migrateDown(db: Kysely<Database>): Promise<string[]> {
  return check(await migrator(db).migrateTo(NO_MIGRATIONS), 'down');
}
