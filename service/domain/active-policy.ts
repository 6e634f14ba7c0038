// The policy this process serves: the revision the database names active, and the shadow one,
// loaded once each and swapped between requests (an evaluation is synchronous: a request holds
// the engine it started with). Every process follows the database's policy channel, so an
// activation reaches every worker of every replica as soon as it commits; a poll and every
// reconnect of the channel catch what a lost connection missed. A revision this process cannot
// load leaves it serving the previous one, saying so (pending), never serving none.
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../data/connect.ts';
import { currentActivation, findShadow, POLICY_CHANNEL, revisionBundle } from '../data/policy-revisions.ts';
import type { Database } from '../data/schema.ts';
import { bundleId, readBundle } from '../policy/bundle.ts';
import type { BundleVerifier } from './bundle-checks.ts';
import { type Policy, PolicyEngine, PolicyLoadError } from '../policy/engine.ts';

export interface PolicyLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** An activated (or shadow) revision this process could not load, and why. */
export interface PendingRevision {
  revision: string;
  error: string;
}

/** Engines kept loaded by revision: the active, the shadow, and those just replaced (in-flight masks). */
const LOADED_MAX = 4;
/** A backstop for a notification lost with its connection before the reconnect noticed. */
const POLL_MS = 10_000;

export class ActivePolicy {
  /** What answers; null until a revision is loaded. */
  engine: Policy | null = null;
  /** The shadow revision, evaluated beside every decision without changing it; null when none. */
  shadow: Policy | null = null;
  /** Why no policy is loaded, when none is. */
  loadError: string | null = null;
  /** The active revision the database names, when this process could not load it. */
  pending: PendingRevision | null = null;
  /** The shadow revision the database names, when this process could not load it. */
  shadowPending: PendingRevision | null = null;
  /** Fixed: the engine was given (tests) and is never replaced from the database. */
  readonly fixed: boolean;
  readonly stats = { activations: 0, loadFailures: 0, shadowDisagreements: 0, impactReplays: 0 };
  /** Engines this process served, by revision: the active, the shadow, and those just replaced. */
  readonly #loaded = new Map<string, Policy>();
  /**
   * The revision loaded last without being served (checked on upload or before an activation):
   * the activation that follows serves it instead of compiling the module again.
   */
  #checked: Policy | null = null;
  readonly #log: PolicyLogger;
  readonly #verify: BundleVerifier;
  #db: Kysely<Database> | null = null;
  #stopFollowing: (() => Promise<void>) | null = null;
  #poll: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | null = null;
  #again = false;
  /** Set by stop: a start-up still under way (the app closing before it was ready) follows nothing. */
  #stopped = false;

  constructor(log: PolicyLogger, fixed: Policy | null, verify: BundleVerifier = () => ({ signed: false })) {
    this.#log = log;
    this.#verify = verify;
    this.fixed = fixed !== null;
    if (fixed !== null) this.#serve(fixed);
  }

  /**
   * The engine of the revision that decided an entry, to mask it by that revision's log policy;
   * null when this process no longer holds it (then the entry keeps no input: nothing unvetted).
   * An entry about no revision (refused before one was chosen) is masked by the active one.
   */
  engineFor(revision: string | null): Policy | null {
    return revision === null ? this.engine : (this.#loaded.get(revision) ?? null);
  }

  /**
   * Loads a stored revision (or takes the one this process serves), checking that the bundle is
   * the one its id names and, with a verification key, that it is signed with it: a revision
   * stored before the key was set, or by a process without one, is not served. Only what is
   * served is kept (keep); a revision loaded to be checked or replayed is only remembered, the last
   * one (checked), so that activating it right after does not compile it again.
   */
  async load(db: Kysely<Database>, revision: string): Promise<Policy> {
    const loaded = this.#loaded.get(revision) ?? (this.#checked?.revision === revision ? this.#checked : undefined);
    if (loaded !== undefined) return loaded;
    const archive = await revisionBundle(db, revision);
    if (archive === undefined) throw new PolicyLoadError(`revision ${revision} is not stored`);
    const files = readBundle(archive);
    if (bundleId(files) !== revision)
      throw new PolicyLoadError(`the stored bundle of ${revision} does not hash to its id`);
    this.#verify(files);
    return this.checked(PolicyEngine.fromFiles(files, (name) => `${revision}:${name}`, revision));
  }

  /** Remembers an engine just loaded and checked from its bundle (one, the last), for load to reuse. */
  checked(engine: Policy): Policy {
    this.#checked = engine;
    return engine;
  }

  /** Keeps an engine this process serves by its revision (the newest few). */
  keep(engine: Policy): Policy {
    this.#loaded.delete(engine.revision);
    this.#loaded.set(engine.revision, engine);
    for (const revision of this.#loaded.keys()) {
      if (this.#loaded.size <= LOADED_MAX) break;
      if (revision !== this.engine?.revision && revision !== this.shadow?.revision) this.#loaded.delete(revision);
    }
    return engine;
  }

  #serve(engine: Policy): void {
    const before = this.engine?.revision ?? null;
    this.keep(engine);
    this.engine = engine;
    this.loadError = null;
    this.pending = null;
    if (before !== engine.revision) {
      this.stats.activations += 1;
      this.#log.info({ revision: engine.revision, previous: before }, `serving policy revision ${engine.revision}`);
    }
  }

  /** Reads the active and shadow revisions and serves them (from now until the process stops, on every change). */
  async follow(handle: DatabaseHandle): Promise<void> {
    if (this.fixed || this.#stopped) return;
    this.#db = handle.db;
    await this.sync();
    if (this.#stopFollowing !== null || this.#stopped) return;
    this.#stopFollowing = handle.listen(POLICY_CHANNEL, {
      onNotify: () => void this.sync(),
      onUp: () => void this.sync(),
      onDown: (error: Error) => this.#log.warn({ err: error }, 'policy change feed lost; polling until it returns'),
    });
    this.#poll = setInterval(() => void this.sync(), POLL_MS);
    this.#poll.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    await this.#stopFollowing?.();
    this.#stopFollowing = null;
  }

  /**
   * Serves what the database names now. Syncs run one at a time; one asked for meanwhile runs once
   * the current ends, so the last committed change is the one every process ends on.
   */
  sync(): Promise<void> {
    if (this.#syncing !== null) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = this.#syncUntilQuiet();
    return this.#syncing;
  }

  async #syncUntilQuiet(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#syncOnce();
      } catch (error) {
        this.#log.warn({ err: error }, 'could not read the active policy revision; keeping the one served');
      }
    } while (this.#again);
    // Cleared in the same step as the last check: a sync asked for after it starts a new read.
    this.#syncing = null;
  }

  async #syncOnce(): Promise<void> {
    const db = this.#db;
    if (db === null) return;
    const [activation, shadow] = await Promise.all([currentActivation(db), findShadow(db)]);
    if (activation === undefined) {
      if (this.engine === null) this.loadError ??= 'no policy revision is active';
    } else if (activation.revision !== this.engine?.revision) {
      try {
        this.#serve(await this.load(db, activation.revision));
      } catch (error) {
        this.#failed('active', activation.revision, error);
      }
    } else {
      this.pending = null;
    }
    if (shadow === undefined) {
      this.shadow = null;
      this.shadowPending = null;
    } else if (shadow.revision !== this.shadow?.revision) {
      try {
        this.shadow = this.keep(await this.load(db, shadow.revision));
        this.shadowPending = null;
      } catch (error) {
        this.shadow = null;
        this.#failed('shadow', shadow.revision, error);
      }
    }
  }

  #failed(role: 'active' | 'shadow', revision: string, error: unknown): void {
    const message = (error as Error).message ?? String(error);
    const known = role === 'active' ? this.pending : this.shadowPending;
    if (known?.revision === revision && known.error === message) return;
    this.stats.loadFailures += 1;
    const pending = { revision, error: message };
    if (role === 'active') this.pending = pending;
    else this.shadowPending = pending;
    if (role === 'active' && this.engine === null)
      this.loadError = `revision ${revision} could not be loaded: ${message}`;
    const serving = this.engine?.revision ?? 'none';
    this.#log.error(
      { err: error, revision, serving },
      `cannot load the ${role} policy revision ${revision} (${message}); ${role === 'active' ? `still serving ${serving}` : 'no shadow evaluation'}`,
    );
  }
}
