// Owns the app's metrics registry; components record into it, /metrics exposes it.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Metrics } from '../domain/metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export interface MetricsPluginOptions {
  /** Process metrics (CPU, memory, event loop, GC); off in tests that build many apps. */
  processMetrics?: boolean;
}

async function metricsPlugin(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  app.decorate('metrics', new Metrics({ processMetrics: options.processMetrics ?? true }));
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' });
