// The ceiling for Node HTTP on this machine: Fastify with the same worker count as Clearance, a
// POST route that parses the JSON body and answers a constant decision-sized JSON.
// Usage: PORT=… WORKERS=… node bench/bare-fastify.ts
import cluster from 'node:cluster';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 18300);
const workers = Number(process.env.WORKERS ?? 1);

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const app = Fastify({ logger: false });
  const answer = {
    decision_id: '00000000-0000-4000-8000-000000000000',
    allow: false,
    reasons: [{ code: 'client_not_allocated', message: 'the client is not allocated to the user' }],
    policy_revision: '0000000000000000',
  };
  const reason = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } };
  app.post(
    '/v1/decide',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              decision_id: { type: 'string' },
              allow: { type: 'boolean' },
              reasons: { type: 'array', items: reason },
              policy_revision: { type: 'string' },
            },
          },
        },
      },
    },
    async () => answer,
  );
  app.get('/health', async () => ({ status: 'ok' }));
  await app.listen({ host: '127.0.0.1', port });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
