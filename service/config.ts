// Reads and validates the environment once, at start-up. Nothing else reads process.env.
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGLITE_SHARED_BUFFERS_DEFAULT } from './data/pglite-pool.ts';
import type { DecisionLogMode } from './domain/decision-log/index.ts';
import { parseTracing, type TracingConfig } from './config-tracing.ts';
import { ConfigError, parseBoolean, parseWholeNumber } from './config-values.ts';

export { ConfigError } from './config-values.ts';
export type { TraceSampler, TracingConfig } from './config-tracing.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface DecisionLogConfig {
  /** buffered: answered at once, logged in batches; durable: answered once logged; off: not logged (benchmarks only). */
  mode: DecisionLogMode;
  /** Days of entries kept; older daily partitions are dropped. */
  retentionDays: number;
  /** Entries queued at most before answers wait for room. */
  queueMax: number;
  /**
   * On PostgreSQL, rows are encoded and written by a thread of their own (worker_threads), off the
   * thread that serves requests; the embedded engine, one in-process connection, always writes on
   * the serving thread. Absent: on.
   */
  thread?: boolean;
  /** Buffered mode: how long the writer lets a batch short of full gather before writing it. Absent: 20 ms. */
  lingerMs?: number;
}

export interface Config {
  /** PostgreSQL connection string; null means the embedded engine (PGlite) under dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  host: string;
  port: number;
  /** Processes serving the port (node:cluster); 1 means this process serves alone. */
  workers: number;
  adminToken: string | null;
  logLevel: LogLevel;
  /** Folder holding the local policy build (bundle.tar.gz, and its files loose). */
  policyDir: string;
  /** Folder holding the console's build (make console); served at /console/ when it holds one. */
  consoleDir: string;
  /** Activate each new local build as it is written (default: on with the embedded engine). */
  policyWatch: boolean;
  /** The key bundles must be signed with (a PEM public key or an HMAC secret); null: signatures are not required. */
  policyVerifyKey: string | null;
  /** Seed an empty embedded database with demo data. */
  seedDemo: boolean;
  /** The embedded engine's shared_buffers, e.g. "32MB" (its resident memory at rest). */
  pgliteSharedBuffers: string;
  decisionLog: DecisionLogConfig;
  /** Facts kept in memory per kind (LRU; a list counts one per element); 0 loads every fact from the database every time. */
  factCacheMaxEntries: number;
  tracing: TracingConfig;
  /** Node's module compile cache (NODE_COMPILE_CACHE, Node's own variable; else Node's default folder). */
  compileCacheDir: string;
  /** glibc's MALLOC_ARENA_MAX for the cluster's workers (README "Memory"); 2 unless set. */
  workerMallocArenaMax: number;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseDatabaseUrl(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  if (url.pathname.length <= 1) throw new ConfigError('DATABASE_URL', 'names no database (add /<database>)');
  return raw;
}

function parseLogLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info';
  const level = raw.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level;
}

function parseAdminToken(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  if (raw.length < 16) throw new ConfigError('CLEARANCE_ADMIN_TOKEN', 'must be at least 16 characters');
  return raw;
}

const DECISION_LOG_MODES: readonly DecisionLogMode[] = ['buffered', 'durable', 'off'];

function parseDecisionLogMode(raw: string | undefined): DecisionLogMode {
  if (raw === undefined || raw === '') return 'buffered';
  const mode = raw.toLowerCase() as DecisionLogMode;
  if (!DECISION_LOG_MODES.includes(mode))
    throw new ConfigError('DECISION_LOG', `must be one of ${DECISION_LOG_MODES.join(', ')}, got "${raw}"`);
  return mode;
}

function parseWorkers(raw: string | undefined, databaseUrl: string | null): number {
  let workers = 1;
  if (raw?.toLowerCase() === 'auto') workers = availableParallelism();
  else if (raw !== undefined && raw !== '') {
    workers = Number(raw);
    if (!/^\d+$/.test(raw) || workers < 1 || workers > 256) {
      throw new ConfigError('CLEARANCE_WORKERS', `must be auto or a whole number from 1 to 256, got "${raw}"`);
    }
  }
  if (workers > 1 && databaseUrl === null) {
    throw new ConfigError(
      'CLEARANCE_WORKERS',
      'above 1 needs DATABASE_URL: the embedded database belongs to one process',
    );
  }
  return workers;
}

function parseSharedBuffers(raw: string | undefined): string {
  if (raw === undefined || raw === '') return PGLITE_SHARED_BUFFERS_DEFAULT;
  const match = /^(\d+)(kB|MB|GB)$/.exec(raw);
  const kb =
    match === null ? 0 : Number(match[1]) * { kB: 1, MB: 1024, GB: 1024 * 1024 }[match[2] as 'kB' | 'MB' | 'GB'];
  // PostgreSQL's floor is 16 buffers of 8 kB; past 1 GB the embedded engine is the wrong tool.
  if (kb < 128 || kb > 1024 * 1024)
    throw new ConfigError('PGLITE_SHARED_BUFFERS', `must be a size from 128kB to 1GB such as 32MB, got "${raw}"`);
  return raw;
}

const VERIFY_KEY = 'CLEARANCE_POLICY_VERIFY_KEY';
const SECRET_MIN = 32;

/**
 * The key policy bundles must be signed with: a PEM public key given as it is, or in a file named
 * by a path (anything with a "/" or ending in .pem is a path, and must exist), else an HMAC secret
 * of at least 32 characters. A PEM key is parsed here, so a bad one stops start-up with a clear
 * line. Never a forgeable fallback: an empty file, or a missing one, is an error, not a secret.
 */
function parseVerifyKey(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  let key = raw;
  if (!raw.includes('-----BEGIN') && (raw.includes('/') || raw.endsWith('.pem') || existsSync(raw))) {
    try {
      key = readFileSync(raw, 'utf8');
    } catch (error) {
      throw new ConfigError(
        VERIFY_KEY,
        `names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  key = key.trim();
  if (key.includes('-----BEGIN')) {
    try {
      createPublicKey(key);
    } catch (error) {
      throw new ConfigError(VERIFY_KEY, `is not a usable PEM public key: ${(error as Error).message}`);
    }
    return key;
  }
  if (key.length < SECRET_MIN) {
    throw new ConfigError(
      VERIFY_KEY,
      `must be a PEM public key, a file holding one, or an HMAC secret of at least ${SECRET_MIN} characters`,
    );
  }
  return key;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = parseDatabaseUrl(env.DATABASE_URL);
  return {
    databaseUrl,
    dataDir: env.CLEARANCE_DATA_DIR || '.data',
    host: env.HOST || '127.0.0.1',
    port: parseWholeNumber('PORT', env.PORT, 8181, 0, 65535),
    workers: parseWorkers(env.CLEARANCE_WORKERS, databaseUrl),
    adminToken: parseAdminToken(env.CLEARANCE_ADMIN_TOKEN),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    policyDir: env.CLEARANCE_POLICY_DIR || '.build/policy',
    consoleDir: env.CLEARANCE_CONSOLE_DIR || '.build/console',
    policyWatch: parseBoolean('CLEARANCE_POLICY_WATCH', env.CLEARANCE_POLICY_WATCH, databaseUrl === null),
    policyVerifyKey: parseVerifyKey(env.CLEARANCE_POLICY_VERIFY_KEY),
    seedDemo: parseBoolean('CLEARANCE_SEED_DEMO', env.CLEARANCE_SEED_DEMO, databaseUrl === null),
    pgliteSharedBuffers: parseSharedBuffers(env.PGLITE_SHARED_BUFFERS),
    factCacheMaxEntries: parseWholeNumber('FACT_CACHE_MAX_ENTRIES', env.FACT_CACHE_MAX_ENTRIES, 100_000, 0, 10_000_000),
    tracing: parseTracing(env),
    compileCacheDir: env.NODE_COMPILE_CACHE || join(tmpdir(), 'node-compile-cache'),
    workerMallocArenaMax: parseWholeNumber('MALLOC_ARENA_MAX', env.MALLOC_ARENA_MAX, 2, 1, 1024),
    decisionLog: {
      mode: parseDecisionLogMode(env.DECISION_LOG),
      retentionDays: parseWholeNumber('DECISION_LOG_RETENTION_DAYS', env.DECISION_LOG_RETENTION_DAYS, 30, 1, 3650),
      queueMax: parseWholeNumber('DECISION_LOG_QUEUE_MAX', env.DECISION_LOG_QUEUE_MAX, 50_000, 1000, 10_000_000),
      thread: parseBoolean('DECISION_LOG_THREAD', env.DECISION_LOG_THREAD, true),
      lingerMs: parseWholeNumber('DECISION_LOG_LINGER_MS', env.DECISION_LOG_LINGER_MS, 20, 0, 1000),
    },
  };
}
