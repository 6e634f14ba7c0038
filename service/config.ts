// Reads and validates the environment once, at start-up. Nothing else reads process.env.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** PostgreSQL connection string; null means the embedded engine (PGlite) under dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  host: string;
  port: number;
  adminToken: string | null;
  logLevel: LogLevel;
  /** Folder holding the compiled policy (policy.wasm and revision). */
  policyDir: string;
  /** Seed an empty embedded database with demo data. */
  seedDemo: boolean;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 8181;
  if (!/^\d+$/.test(raw)) throw new ConfigError('PORT', `must be a whole number from 0 to 65535, got "${raw}"`);
  const port = Number(raw);
  if (port > 65535) throw new ConfigError('PORT', `must be a whole number from 0 to 65535, got "${raw}"`);
  return port;
}

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
  if (!LOG_LEVELS.includes(level)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level;
}

function parseAdminToken(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  if (raw.length < 16) throw new ConfigError('CLEARANCE_ADMIN_TOKEN', 'must be at least 16 characters');
  return raw;
}

function parseBoolean(variable: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(variable, `must be true or false, got "${raw}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = parseDatabaseUrl(env.DATABASE_URL);
  return {
    databaseUrl,
    dataDir: env.CLEARANCE_DATA_DIR || '.data',
    host: env.HOST || '127.0.0.1',
    port: parsePort(env.PORT),
    adminToken: parseAdminToken(env.CLEARANCE_ADMIN_TOKEN),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    policyDir: env.CLEARANCE_POLICY_DIR || '.build/policy',
    seedDemo: parseBoolean('CLEARANCE_SEED_DEMO', env.CLEARANCE_SEED_DEMO, databaseUrl === null),
  };
}
