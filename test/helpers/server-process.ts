// Runs the service as a user does (node service/server.ts) on the test engine, with demo data,
// for tests of what only a real process shows: signals, kill -9, what survives an exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createPostgresDatabase, TEST_ENGINE } from './database.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { eventually } from './wait.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ServerProcess {
  base: string;
  token: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  output(): string;
  /** Runs a query against the service's database (after it exited, for PGlite). */
  query<R>(text: string, values?: unknown[]): Promise<R[]>;
  /** The PostgreSQL URL of the service's database (postgres engine only), not through the proxy. */
  databaseUrl: string | null;
  /** Where the service keeps its files (the decision log spill, PGlite's). */
  dataDir: string;
  /** The proxy the service reaches its database through, when asked for. */
  proxy: TcpProxy | null;
}

export interface StartOptions {
  /** Reach the database through a proxy the test can cut or freeze (postgres engine only). */
  proxy?: boolean;
  /** Start again on the data folder and database of this server (which has exited). */
  restartOf?: ServerProcess;
  /** Another replica on the database of this server (postgres engine only), with a data folder of its own. */
  replicaOf?: ServerProcess;
}

/** The address in the service's banner (it listens on the port the OS gave it), or null before the banner. */
export const bannerAddress = (output: string): string | null =>
  /Clearance is listening on (http:\/\/[^\s,()]+)/.exec(output)?.[1] ?? null;

/**
 * Waits for the banner, which the service prints once it listens and its database is migrated
 * (with workers, once every first worker is); returns the address. Throws, with the output, when
 * the process exits first or takes longer than ms (a fresh embedded database runs initdb first,
 * which takes a while on a busy machine).
 */
export async function listening(child: ChildProcess, output: () => string, ms = 180_000): Promise<string> {
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  await eventually(() => bannerAddress(output()) !== null || ended(), ms);
  const address = bannerAddress(output());
  if (address === null)
    throw new Error(
      `the server did not say it was listening (${ended() ? `exit ${child.exitCode ?? child.signalCode}` : `still running after ${ms} ms`}): ${output().slice(-2000)}`,
    );
  return address;
}

export async function startServer(
  t: Teardown,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<ServerProcess> {
  const dataDir = options.restartOf?.dataDir ?? mkdtempSync(join(tmpdir(), 'clearance-process-'));
  let created: { url: string } | null = null;
  const sharing = options.restartOf ?? options.replicaOf;
  if (sharing !== undefined) {
    const url = sharing.databaseUrl;
    created = url === null ? null : { url };
  } else if (TEST_ENGINE === 'postgres') {
    const made = await createPostgresDatabase();
    t.teardown(() => made.drop());
    created = made;
  }
  let proxy: TcpProxy | null = null;
  let serviceUrl = created?.url ?? '';
  if (options.proxy === true) {
    if (created === null) throw new Error('a proxy needs the postgres engine');
    const target = new URL(created.url);
    const started = await startTcpProxy(target.hostname, Number(target.port || 5432));
    proxy = started;
    t.teardown(() => started.close());
    const url = new URL(created.url);
    url.port = String(started.port);
    serviceUrl = url.toString();
  }
  const token = `test-admin-${randomBytes(12).toString('hex')}`;
  const child = spawn(process.execPath, ['service/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: serviceUrl,
      CLEARANCE_DATA_DIR: dataDir,
      CLEARANCE_SEED_DEMO: 'true',
      CLEARANCE_ADMIN_TOKEN: token,
      PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));
  const base = await listening(child, () => output);
  const ready = await fetch(`${base}/ready`).then(
    (r) => r.status,
    () => 0,
  );
  if (ready !== 200)
    throw new Error(`the server said it was listening but /ready answered ${ready}: ${output.slice(-2000)}`);
  return {
    base,
    token,
    child,
    exited,
    output: () => output,
    databaseUrl: created?.url ?? null,
    dataDir,
    proxy,
    async query<R>(text: string, values: unknown[] = []) {
      if (created !== null) {
        const client = new pg.Client({ connectionString: created.url });
        await client.connect();
        try {
          return (await client.query(text, values)).rows as R[];
        } finally {
          await client.end();
        }
      }
      const db = await PGlite.create(join(dataDir, 'pglite'));
      try {
        return (await db.query<R>(text, values)).rows;
      } finally {
        await db.close();
      }
    },
  };
}
