// Drives the policy revision API as an author or operator does: bundles up as application/gzip,
// everything else JSON, with a bearer token; and reads /metrics and /ready as a monitor does.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { components } from '../../service/http/openapi-types.ts';

export type RevisionView = components['schemas']['PolicyRevision'];
export type ActivationView = components['schemas']['PolicyActivation'];
export type RevisionList = components['schemas']['PolicyRevisionList'];

export interface PolicyApi {
  upload(archive: Buffer, contentType?: string): Promise<LightMyRequestResponse>;
  list(query?: string): Promise<RevisionList>;
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  put(url: string, body: unknown): Promise<LightMyRequestResponse>;
  del(url: string): Promise<LightMyRequestResponse>;
  activate(revision: string): Promise<LightMyRequestResponse>;
  rollback(): Promise<LightMyRequestResponse>;
}

export function policyApi(app: FastifyInstance, token: string): PolicyApi {
  const authorization = `Bearer ${token}`;
  const json = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers = {}) =>
    app.inject({
      method,
      url,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  return {
    upload: (archive, contentType = 'application/gzip') =>
      app.inject({
        method: 'POST',
        url: '/v1/policies',
        headers: { authorization, 'content-type': contentType },
        payload: archive,
      }),
    list: async (query = '') => {
      const response = await json('GET', `/v1/policies${query}`);
      if (response.statusCode !== 200) throw new Error(`listing revisions: ${response.statusCode} ${response.body}`);
      return response.json() as RevisionList;
    },
    get: (url) => json('GET', url),
    post: (url, body, headers) => json('POST', url, body, headers),
    put: (url, body) => json('PUT', url, body),
    del: (url) => json('DELETE', url),
    activate: (revision) => json('POST', `/v1/policies/${revision}/activate`),
    rollback: () => json('POST', '/v1/policies/rollback'),
  };
}

/** The stored revision of an upload that must succeed. */
export async function uploaded(api: PolicyApi, archive: Buffer): Promise<RevisionView> {
  const response = await api.upload(archive);
  if (response.statusCode !== 201 && response.statusCode !== 200)
    throw new Error(`upload answered ${response.statusCode}: ${response.body}`);
  return response.json() as RevisionView;
}

/** The activation of a request that must succeed. */
export async function activated(response: Promise<LightMyRequestResponse>): Promise<ActivationView> {
  const answer = await response;
  if (answer.statusCode !== 200) throw new Error(`activation answered ${answer.statusCode}: ${answer.body}`);
  return answer.json() as ActivationView;
}

/**
 * The value of one sample of a metric in the Prometheus text, found by its labels (in any order);
 * null when no sample has them.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = new Map([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(match[3]);
  }
  return null;
}

export const metricsText = async (app: FastifyInstance): Promise<string> =>
  (await app.inject({ method: 'GET', url: '/metrics' })).body;

/** The revisions this process says it serves, per role, from /metrics. */
export async function revisionRoles(app: FastifyInstance): Promise<Record<string, string[]>> {
  const roles: Record<string, string[]> = {};
  for (const line of (await metricsText(app)).split('\n')) {
    if (!line.startsWith('clearance_policy_revision{')) continue;
    const role = /role="([^"]*)"/.exec(line)?.[1] as string;
    const revision = /revision="([^"]*)"/.exec(line)?.[1] as string;
    if (!line.endsWith(' 1')) continue;
    roles[role] ??= [];
    roles[role].push(revision);
  }
  return roles;
}
