// Builds the app for a test on a fresh migrated database, driven with app.inject.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../service/app.ts';
import type { Config } from '../../service/config.ts';
import type { DatabaseHandle } from '../../service/data/connect.ts';
import { testConfig } from './config.ts';
import { emptyDatabase } from './database.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestApp {
  app: FastifyInstance;
  database: DatabaseHandle;
}

export async function buildTestApp(t: Teardown, config: Partial<Config> = {}): Promise<TestApp> {
  const database = await emptyDatabase(t);
  const app = await buildApp({ config: testConfig(config), database, logger: false });
  t.teardown(() => app.close());
  await app.ready();
  await app.databaseStatus.whenMigrated;
  return { app, database };
}
