// Provides the decision service and the list queries: decisions over the loaded policy, from the
// facts, each answer handed to the decision log.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DecisionService } from '../domain/decisions.ts';
import { ListQueries } from '../domain/list-queries.ts';

declare module 'fastify' {
  interface FastifyInstance {
    decisions: DecisionService;
    /** Lists judged in one evaluation: the clients a user may act on, the users who may act on a resource. */
    lists: ListQueries;
  }
}

async function decisionsPlugin(app: FastifyInstance): Promise<void> {
  const engine = () => app.policy.engine;
  app.decorate('decisions', new DecisionService(app.facts, engine, app.decisionLog, app.metrics, app.policy));
  app.decorate('lists', new ListQueries(app.facts, engine, app.decisionLog, app.metrics));
}

export default fp(decisionsPlugin, {
  name: 'decisions',
  fastify: '5.x',
  dependencies: ['facts', 'policy', 'metrics', 'decision-log'],
});
