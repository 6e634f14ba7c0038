// Liveness and readiness: /health says the process is up, /ready that it can decide
// (database reachable and migrated, policy loaded). A process that could not load the revision
// activated last is still ready (it serves the one before) and names both, with the error.
import type { FastifyInstance } from 'fastify';
import { route } from '../http/route.ts';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  route(app, 'health', { handler: async () => ({ status: 'ok' }) });

  route(app, 'ready', {
    handler: async (_request, reply) => {
      const problems: Array<{ code: string; message: string }> = [];
      const { engine, pending, shadowPending } = app.policy;
      // The active revision is read from the database: while it is away, that is the one problem.
      if (engine === null && (app.databaseStatus.migrated || app.policy.fixed)) {
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
      // Serving, though not what the database names: still ready (a policy answers), and saying so.
      return {
        status: 'ready',
        policy_revision: engine.revision,
        database: app.database.engine,
        ...(pending === null ? {} : { policy_pending: pending }),
        ...(app.policy.shadow === null ? {} : { policy_shadow: app.policy.shadow.revision }),
        ...(shadowPending === null ? {} : { policy_shadow_pending: shadowPending }),
      };
    },
  });
}
