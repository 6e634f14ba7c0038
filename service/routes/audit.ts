// The audit trail of the context API and token changes (scope logs: operators review it).
import type { FastifyInstance } from 'fastify';
import { route } from '../http/route.ts';

export default async function auditRoutes(app: FastifyInstance): Promise<void> {
  route(app, 'listAudit', {
    onRequest: app.requireScope('logs'),
    handler: async (request) => app.auditTrail.list(request.query),
  });
}
