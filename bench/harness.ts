// What the end-to-end benchmarks share: the whole app on a fresh PostgreSQL database that is
// dropped afterwards, the machine's conditions, and timing a request over warm runs.
import { cpus, loadavg } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildApp } from '../service/app.ts';
import { openDatabase } from '../service/data/connect.ts';
import type { Database, NewUser } from '../service/data/schema.ts';
import type { Prng } from '../test/differential/json.ts';
import { testConfig } from '../test/helpers/config.ts';
import { createPostgresDatabase } from '../test/helpers/database.ts';

/** The conditions a figure was measured under. */
export const machine = () => ({
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadavg: loadavg().map((l) => Number(l.toFixed(2))),
});

/** Runs work with the app (migrated, not listening) on a fresh database, dropped afterwards. */
export async function onFreshDatabase<T>(work: (app: FastifyInstance, db: Kysely<Database>) => Promise<T>): Promise<T> {
  const created = await createPostgresDatabase();
  const database = await openDatabase({ databaseUrl: created.url, dataDir: null });
  const app = await buildApp({ config: testConfig({ databaseUrl: created.url }), database, logger: false });
  try {
    await app.ready();
    await app.databaseStatus.whenMigrated;
    return await work(app, database.db);
  } finally {
    await app.close();
    await created.drop();
  }
}

/** A request's milliseconds over runs after warm-up ones (facts cached, code optimised), and its last body. */
export async function timed(
  what: string,
  request: () => Promise<{ statusCode: number; body: string }>,
  { warm, runs }: { warm: number; runs: number },
) {
  let body = '';
  const times: number[] = [];
  for (let i = 0; i < warm + runs; i++) {
    const start = performance.now();
    const response = await request();
    if (i >= warm) times.push(performance.now() - start);
    if (response.statusCode !== 200)
      throw new Error(`${what} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
    body = response.body;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return {
    body,
    runs,
    median: at(0.5),
    p95: at(0.95),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
  };
}

/** Users of a practice with every role and client access mode (a third linked to the practice manager), seeded. */
export function practiceUsers(rng: Prng, count: number, accountId: string, suspendedShare = 0): NewUser[] {
  const roles = ['practice_admin', 'client_admin', 'standard', 'standard', 'standard', 'expense_approver'] as const;
  const modes = [null, 'all', 'selected', 'ledger_all', 'ledger_selected'] as const;
  return Array.from({ length: count }, (_, i) => ({
    id: `user-${String(i).padStart(4, '0')}`,
    account_id: accountId,
    account_kind: 'practice',
    name: `User ${i}`,
    role: rng.pick(roles),
    client_access_mode: rng.pick(modes),
    status: rng.bool(suspendedShare) ? 'suspended' : 'active',
    xpm_staff_id: rng.bool(0.3) ? `xpm-${i}` : null,
  }));
}
