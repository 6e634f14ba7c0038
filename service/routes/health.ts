// Liveness and readiness: /health says the process is up, /ready that it can decide
// (database reachable and migrated, policy loaded).
import type { FastifyInstance } from 'fastify';
import { route } from '../http/route.ts';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  route(app, 'health', { handler: async () => ({ status: 'ok' }) });

  route(app, 'ready', {
    handler: async (_request, reply) => {
      const problems: Array<{ code: string; message: string }> = [];
      const { engine } = app.policy;
      if (engine === null) {
        problems.push({ code: 'policy_not_loaded', message: app.policy.loadError ?? 'no policy loaded' });
      }
      if (!app.databaseStatus.migrated) {
        problems.push({
          code: 'database_unavailable',
          message: app.databaseStatus.lastError ?? 'database start-up still in progress',
        });
      } else {
        try {
          await app.database.ping(1000);
        } catch (error) {
          problems.push({ code: 'database_unavailable', message: (error as Error).message });
        }
      }
      if (engine === null || problems.length > 0) {
        return reply.code(503).send({
          error: { code: 'not_ready', message: problems.map((p) => p.message).join('; '), details: { problems } },
        });
      }
      return { status: 'ready', policy_revision: engine.revision, database: app.database.engine };
    },
  });
}
