// Provides the decision service: decisions over the loaded policy, from the facts, each answer
// handed to the decision log.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DecisionService } from '../domain/decisions.ts';

declare module 'fastify' {
  interface FastifyInstance {
    decisions: DecisionService;
  }
}

async function decisionsPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('decisions', new DecisionService(app.facts, () => app.policy.engine, app.decisionLog, app.metrics));
}

export default fp(decisionsPlugin, {
  name: 'decisions',
  fastify: '5.x',
  dependencies: ['facts', 'policy', 'metrics', 'decision-log'],
});
