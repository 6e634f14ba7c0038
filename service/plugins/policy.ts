// The policy this process serves and the revisions behind it. With a database (always: the
// embedded one or DATABASE_URL), the active revision is the one the database names: at start the
// local build (policyDir/bundle.tar.gz) is registered (stored, and activated when none is, or
// always on the embedded development engine), then every change is followed (ActivePolicy). A
// missing or broken policy does not stop the process: /ready says why, and every decision is a
// refusal. In development (watch) a new local build is activated as soon as `make policies` ends.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import type { DatabaseHandle } from '../data/connect.ts';
import { ActivePolicy } from '../domain/active-policy.ts';
import type { BundleVerifier } from '../domain/bundle-checks.ts';
import { registerLocalBuild } from '../domain/local-build.ts';
import { PolicyRevisions } from '../domain/policy-revisions.ts';
import type { Policy } from '../policy/engine.ts';
import { AppError } from '../errors.ts';
import { BundleError } from '../policy/bundle.ts';

declare module 'fastify' {
  interface FastifyInstance {
    policy: ActivePolicy;
    policyRevisions: PolicyRevisions;
    /** Registers the local build and starts following the active revision (once migrations ran). */
    startPolicy(handle: DatabaseHandle): Promise<void>;
  }
}

export interface PolicyPluginOptions {
  policyDir: string;
  /** Use this engine instead of the database's revisions (tests). */
  engine?: Policy;
  /** Activate the local build at every start, even over another active revision (the embedded engine). */
  takeOverLocalBuild: boolean;
  /** Activate each new local build as `make policies` writes it (development). */
  watch: boolean;
  /** Checks an uploaded bundle's signature (CLEARANCE_POLICY_VERIFY_KEY). */
  verify?: BundleVerifier;
}

/** How often the watch looks at the local build's revision file. */
const WATCH_MS = 500;

async function policyPlugin(app: FastifyInstance, options: PolicyPluginOptions): Promise<void> {
  const active = new ActivePolicy(app.log, options.engine ?? null, options.verify);
  if (!active.fixed) active.loadError = 'waiting for the database to name the active policy revision';
  const revisions = new PolicyRevisions(app.database.db, active, options.verify);
  app.decorate('policy', active);
  app.decorate('policyRevisions', revisions);
  const bundlePath = join(options.policyDir, 'bundle.tar.gz');

  /** Registers the local build; what is wrong with it is logged (and said on /ready if nothing else serves). */
  const registerLocal = async (takeOver: boolean): Promise<string | null> => {
    let archive: Buffer;
    try {
      archive = readFileSync(bundlePath);
    } catch {
      return `no policy bundle at ${bundlePath} (run "make policies")`;
    }
    try {
      await registerLocalBuild(revisions, archive, takeOver, {
        info: (message) => app.log.info(message),
        warn: (message) => app.log.warn(message),
      });
      return null;
    } catch (error) {
      if (!(error instanceof AppError || error instanceof BundleError)) throw error;
      const message = `the local policy build at ${bundlePath} was not registered: ${error.message}`;
      app.log.error({ err: error }, message);
      return message;
    }
  };

  app.decorate('startPolicy', async (handle: DatabaseHandle) => {
    if (active.fixed) return;
    const localProblem = await registerLocal(options.takeOverLocalBuild);
    await active.follow(handle);
    if (active.engine === null && localProblem !== null) {
      active.loadError = `no policy revision is active, and the local build cannot be: ${localProblem}`;
    }
  });

  let watching = false;
  if (options.watch && !active.fixed) {
    watching = true;
    let running = Promise.resolve();
    watchFile(join(options.policyDir, 'revision'), { interval: WATCH_MS, persistent: false }, (now, before) => {
      if (now.mtimeMs === before.mtimeMs || now.size === 0 || !app.databaseStatus.migrated) return;
      running = running.then(async () => {
        try {
          await registerLocal(true);
        } catch (error) {
          app.log.warn({ err: error }, 'could not activate the new local policy build');
        }
      });
    });
  }

  observePolicy(app, active);
  app.addHook('onClose', async () => {
    if (watching) unwatchFile(join(options.policyDir, 'revision'));
    await active.stop();
  });
}

function observePolicy(app: FastifyInstance, active: ActivePolicy): void {
  const { metrics } = app;
  new Gauge({
    name: 'clearance_policy_revision',
    help: 'Policy revisions of this process by role: active (served), shadow, and pending (activated, but this process could not load it)',
    labelNames: ['role', 'revision'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      if (active.engine !== null) this.set({ role: 'active', revision: active.engine.revision }, 1);
      if (active.shadow !== null) this.set({ role: 'shadow', revision: active.shadow.revision }, 1);
      if (active.pending !== null) this.set({ role: 'pending', revision: active.pending.revision }, 1);
    },
  });
  metrics.observeTotal(
    'clearance_policy_activations_total',
    'Times this process began serving another policy revision',
    () => active.stats.activations,
  );
  metrics.observeTotal(
    'clearance_policy_load_failures_total',
    'Activated or shadow revisions this process could not load (it kept serving the one before)',
    () => active.stats.loadFailures,
  );
  metrics.observeTotal(
    'clearance_policy_shadow_disagreements_total',
    'Decisions the shadow revision answered otherwise (allow or reason codes)',
    () => active.stats.shadowDisagreements,
  );
  metrics.observeTotal(
    'clearance_policy_impact_replays_total',
    'Logged decisions replayed through a candidate revision by impact analysis',
    () => active.stats.impactReplays,
  );
}

export default fp(policyPlugin, { name: 'policy', fastify: '5.x', dependencies: ['database', 'metrics'] });
