// Prometheus metrics, open like /health: counts and latencies, no tenant data.
import type { FastifyInstance } from 'fastify';
import { route } from '../http/route.ts';

export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  route(app, 'metrics', {
    handler: async (_request, reply) => {
      reply.type(app.metrics.registry.contentType);
      return app.metrics.registry.metrics();
    },
  });
}
