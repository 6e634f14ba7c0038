// Prometheus metrics, open like /health: counts and latencies, no tenant data.
import type { FastifyInstance } from 'fastify';

export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    reply.type(app.metrics.registry.contentType);
    return app.metrics.registry.metrics();
  });
}
