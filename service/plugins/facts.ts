// Provides the facts: the fact store over the database, with its in-memory cache following the
// database's change feed (started once migrations ran), and the cache's metrics.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { FactStore, type Peers } from '../domain/facts.ts';

declare module 'fastify' {
  interface FastifyInstance {
    facts: FactStore;
  }
}

export interface FactsPluginOptions {
  /** Facts kept per kind; 0 disables the cache. */
  factCacheMaxEntries: number;
  /** The other workers of this process tree (cluster mode), or null. */
  peers: Peers | null;
}

async function factsPlugin(app: FastifyInstance, options: FactsPluginOptions): Promise<void> {
  const facts = new FactStore(app.database, options.factCacheMaxEntries, options.peers);
  app.decorate('facts', facts);
  const { metrics } = app;
  const { stats } = facts;
  metrics.observeTotal('clearance_fact_cache_hits_total', 'Facts served from the in-memory cache', () => stats.hits);
  metrics.observeTotal('clearance_fact_cache_misses_total', 'Facts loaded from the database', () => stats.misses);
  metrics.observeTotal(
    'clearance_fact_cache_coalesced_total',
    'Facts that shared a load of the same fact already under way',
    () => stats.coalesced,
  );
  metrics.observeTotal(
    'clearance_fact_cache_invalidations_total',
    'Change notifications applied to the cache',
    () => stats.invalidations,
  );
  metrics.observeTotals(
    'clearance_fact_cache_bypassed_total',
    'Token checks and decisions that read their facts from the database though the cache was up, by why: ' +
      'fresh or at_least consistency asked for, or behind (another worker announced a change not yet applied here)',
    'reason',
    () => stats.bypassed,
  );
  metrics.observe(
    'clearance_fact_cache_enabled',
    '1 while the change feed is up and the cache is used, 0 while it is bypassed',
    () => (stats.enabled ? 1 : 0),
  );
  // The change feed needs the notification triggers, so it starts once migrations ran.
  void app.databaseStatus.whenMigrated.then(() => {
    if (!app.databaseStatus.closing) {
      facts.start((error) => app.log.warn({ err: error }, 'fact change feed lost; cache bypassed until it returns'));
    }
  });
  app.addHook('onClose', async () => {
    await facts.stop();
  });
}

export default fp(factsPlugin, { name: 'facts', fastify: '5.x', dependencies: ['database', 'metrics'] });
