// What the benchmark scripts share: the benchmark database (made when missing), a token for the
// load, and a bounded-concurrency map.
import { sql } from 'kysely';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { openDatabase } from '../service/data/connect.ts';
import { insertToken } from '../service/data/tokens.ts';
import type { Database } from '../service/data/schema.ts';
import type { DecideRequest } from '../service/domain/policy-input.ts';
import { generateToken, hashSecret } from '../service/domain/tokens.ts';
import { ensureDataset } from './dataset.ts';
import { requestMix } from './requests.ts';

export const benchDatabaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clearance_bench';

/** Creates the database of url when it does not exist. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
}

/** A fresh token for the load generator, and the decision log emptied, so each run starts alike. */
export async function prepareRun(db: Kysely<Database>): Promise<{ authorization: string }> {
  await sql`truncate decision_log`.execute(db);
  const { id, secret, token } = generateToken();
  await insertToken(db, { id, name: 'bench', secretHash: hashSecret(secret), scopes: ['decide', 'logs'] });
  return { authorization: `Bearer ${token}` };
}

/**
 * What a tool driving one process with /v1/decide needs: the benchmark database with its data set
 * (generated when missing, which takes a minute), the request mix of `make bench`, and a token.
 */
export async function decideLoadInputs(
  say: (message: string) => void,
): Promise<{ mix: DecideRequest[]; auth: { authorization: string } }> {
  await ensureDatabase(benchDatabaseUrl);
  const handle = await openDatabase({ databaseUrl: benchDatabaseUrl, dataDir: null });
  try {
    // Generating the data set takes longer than the bound of a decision's queries (handle.db).
    const dataset = await ensureDataset(handle.migrationDb);
    say(`data set ${dataset.version} ${dataset.generated ? `generated in ${dataset.seconds.toFixed(1)} s` : 'reused'}`);
    return { mix: await requestMix(handle.db, 5000), auth: await prepareRun(handle.db) };
  } finally {
    await handle.close();
  }
}

/** Runs fn over items with at most `width` at a time, keeping order. */
export async function mapLimit<T, R>(
  items: T[],
  width: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}
