// Drives the context API as a caller does: JSON over app.inject with a bearer token.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import type { Kysely } from 'kysely';
import type { BuildOptions } from '../../service/app.ts';
import type { Config } from '../../service/config.ts';
import type { AuditRow, Database } from '../../service/data/schema.ts';
import { appOn, eventually, migrated, silentFeed, type TestApp } from './app.ts';
import { databaseForApp } from './database.ts';

/** The CLEARANCE_ADMIN_TOKEN of context tests (every scope; audited as env:CLEARANCE_ADMIN_TOKEN). */
export const ADMIN_TOKEN = 'admin-token-for-context-tests';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Api {
  get(url: string): Promise<LightMyRequestResponse>;
  put(url: string, body: unknown): Promise<LightMyRequestResponse>;
  patch(url: string, body: unknown, contentType?: string): Promise<LightMyRequestResponse>;
  post(url: string, body: unknown): Promise<LightMyRequestResponse>;
  del(url: string): Promise<LightMyRequestResponse>;
}

export function api(app: FastifyInstance, token: string = ADMIN_TOKEN): Api {
  const send = (
    method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    contentType = 'application/json',
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  return {
    get: (url) => send('GET', url),
    put: (url, body) => send('PUT', url, body),
    patch: (url, body, contentType) => send('PATCH', url, body, contentType),
    post: (url, body) => send('POST', url, body),
    del: (url) => send('DELETE', url),
  };
}

export interface ContextAppOptions {
  config?: Partial<Config>;
  /**
   * The change feed comes up but never delivers a notification, so the cache is in use and only
   * the API's own synchronous invalidation can keep it fresh: what a caller in another process
   * would see if the notification were slow.
   */
  silentFeed?: boolean;
  onBootstrapToken?: (token: string) => void;
  /** Injected into the app as it is built (tests of tracing, of a faulty policy). */
  build?: Pick<BuildOptions, 'spanProcessor' | 'policyEngine'>;
}

/** The app on a fresh migrated database with ADMIN_TOKEN configured, and the change feed up. */
export async function contextApp(t: Teardown, options: ContextAppOptions = {}): Promise<TestApp & { admin: Api }> {
  const opened = await databaseForApp(t);
  const database = options.silentFeed === true ? silentFeed(opened) : opened;
  const built = {
    ...options.build,
    ...(options.onBootstrapToken ? { onBootstrapToken: options.onBootstrapToken } : {}),
  };
  const app = await migrated(await appOn(t, database, { adminToken: ADMIN_TOKEN, ...options.config }, built));
  if (!(await eventually(async () => app.facts.stats.enabled))) throw new Error('the change feed did not come up');
  return { app, database, admin: api(app) };
}

/** Asks /v1/decide; returns allow and the reason codes. */
export async function decide(
  app: FastifyInstance,
  subject: string,
  action: string,
  resource: { type: string; id?: string },
  token: string = ADMIN_TOKEN,
): Promise<{ allow: boolean; codes: string[] }> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { authorization: `Bearer ${token}` },
    payload: { subject: { id: subject }, action, resource },
  });
  if (response.statusCode !== 200) throw new Error(`decide answered ${response.statusCode}: ${response.body}`);
  const body = response.json() as { allow: boolean; reasons: Array<{ code: string }> };
  return { allow: body.allow, codes: body.reasons.map((r) => r.code) };
}

/**
 * Asks twice and checks that the second answer came from the fact cache: a test that a change
 * reaches the next decision proves nothing about invalidation unless what it changes was cached.
 * Returns the second answer.
 */
export async function warm<T>(t: Test, app: FastifyInstance, ask: () => Promise<T>): Promise<T> {
  await ask();
  const hits = app.facts.stats.hits;
  const answer = await ask();
  t.ok(app.facts.stats.hits > hits, 'asked twice: the second answer came from the cache');
  return answer;
}

/** Every audit row, oldest first. */
export const auditRows = (db: Kysely<Database>): Promise<AuditRow[]> =>
  db.selectFrom('audit_log').selectAll().orderBy('id').execute();

/**
 * A write's answer body as GET shows the record (or a sync its counts): without the consistency
 * token every write's body carries, which must be the header's.
 */
export function written(response: LightMyRequestResponse): Record<string, unknown> {
  const { consistency_token: token, ...record } = response.json() as Record<string, unknown>;
  if (typeof token !== 'string' || token !== response.headers['clearance-consistency-token']) {
    throw new Error(
      `the write's consistency token ${String(token)} is not its header's: ${String(response.headers['clearance-consistency-token'])}`,
    );
  }
  return record;
}

/** The error a refusal carries. */
export const errorOf = (
  response: LightMyRequestResponse,
): { code: string; message: string; details?: { field?: string } } =>
  (response.json() as { error: { code: string; message: string; details?: { field?: string } } }).error;

/** A practice with users and clients, written through the API. */
export async function seedPractice(admin: Api, accountId = 'p1'): Promise<void> {
  const ok = (r: LightMyRequestResponse) => {
    if (r.statusCode >= 300) throw new Error(`seed failed: ${r.statusCode} ${r.body}`);
  };
  ok(await admin.put(`/v1/accounts/${accountId}`, { kind: 'practice', name: `Practice ${accountId}` }));
  ok(
    await admin.post(`/v1/accounts/${accountId}/sync/users`, {
      records: [
        { id: `${accountId}-admin`, name: 'Admin', role: 'practice_admin' },
        { id: `${accountId}-std`, name: 'Standard', role: 'standard' },
        { id: `${accountId}-lee`, name: 'Lee', role: 'standard', client_access_mode: 'ledger_selected' },
      ],
    }),
  );
  ok(
    await admin.post(`/v1/accounts/${accountId}/sync/clients`, {
      records: [
        { id: `${accountId}-acme`, name: 'Acme', ledger: 'xero' },
        { id: `${accountId}-globex`, name: 'Globex', ledger: 'xero' },
        { id: `${accountId}-hooli`, name: 'Hooli' },
      ],
    }),
  );
}
