// The audit trail of the context API and token changes (scope logs: operators review it).
import type { FastifyInstance } from 'fastify';
import { DEFAULT_PAGE_LIMIT } from '../domain/paging.ts';
import { specRoute } from '../http/openapi.ts';
import type { components, operations } from '../http/openapi-types.ts';

type Query = NonNullable<operations['listAudit']['parameters']['query']>;

export default async function auditRoutes(app: FastifyInstance): Promise<void> {
  const { url, schema } = specRoute('get', '/v1/audit');
  app.route<{ Querystring: Query }>({
    method: 'GET',
    url,
    schema,
    onRequest: app.requireScope('logs'),
    handler: async (request): Promise<components['schemas']['AuditList']> =>
      app.auditTrail.list({ ...request.query, limit: request.query.limit ?? DEFAULT_PAGE_LIMIT }),
  });
}
