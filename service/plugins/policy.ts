// Loads the compiled policy once at start. A missing or broken policy does not stop the process:
// the service stays up, /ready says why, and every decision is a refusal.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { PolicyEngine, type Policy } from '../policy/engine.ts';

export interface PolicyStatus {
  engine: Policy | null;
  /** Why no policy is loaded, when none is. */
  loadError: string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    policy: PolicyStatus;
  }
}

export interface PolicyPluginOptions {
  policyDir: string;
  /** Use this engine instead of loading one (tests). */
  engine?: Policy;
}

async function policyPlugin(app: FastifyInstance, options: PolicyPluginOptions): Promise<void> {
  const status: PolicyStatus = { engine: null, loadError: null };
  try {
    status.engine = options.engine ?? PolicyEngine.load(options.policyDir);
    app.log.info({ revision: status.engine.revision }, 'policy loaded');
  } catch (error) {
    status.loadError = (error as Error).message;
    app.log.error({ err: error }, `policy not loaded: ${status.loadError}`);
  }
  app.decorate('policy', status);
}

export default fp(policyPlugin, { name: 'policy', fastify: '5.x', dependencies: [] });
