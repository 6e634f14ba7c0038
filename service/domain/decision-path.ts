// What every decision path shares: the loaded policy, the facts a request is decided on, and
// handing its answers to the decision log (with their metrics). DecisionService (single decisions
// and batches) and ListQueries (lists of clients and of subjects) are built on it.
import { AppError } from '../errors.ts';
import type { DecisionEndpoint } from '../data/schema.ts';
import type { ShadowVerdict } from '../data/schema.ts';
import { codesOf, type PolicyResult, sameVerdict } from '../policy/answers.ts';
import type { Policy } from '../policy/engine.ts';
import type { CallContext } from './decision-entries.ts';
import type { DecisionLog, DecisionLogEntry } from './decision-log/index.ts';
import type { Facts, FactStore } from './facts.ts';
import type { Metrics } from './metrics.ts';
import { PolicyInputBuilder } from './policy-input.ts';

/** The shadow revision a decision is also evaluated by, and who counts its disagreements. */
export interface ShadowSource {
  readonly shadow: Policy | null;
  readonly stats: { shadowDisagreements: number };
}

export abstract class DecisionPath {
  readonly #inputs: PolicyInputBuilder;
  readonly #facts: FactStore;
  readonly #engine: () => Policy | null;
  readonly #log: DecisionLog;
  readonly #metrics: Metrics;
  readonly #shadow: ShadowSource | null;

  constructor(
    facts: FactStore,
    engine: () => Policy | null,
    log: DecisionLog,
    metrics: Metrics,
    shadow: ShadowSource | null = null,
  ) {
    this.#shadow = shadow;
    this.#facts = facts;
    this.#inputs = new PolicyInputBuilder(facts);
    this.#engine = engine;
    this.#log = log;
    this.#metrics = metrics;
  }

  protected policy(): Policy {
    const engine = this.#engine();
    if (engine === null) throw new AppError(503, 'policy_error', 'no policy is loaded');
    return engine;
  }

  /**
   * What the shadow revision answers for an input the active one decided, where it disagrees
   * (allow, or the list of reason codes); null when it agrees or no shadow is set. Evaluated after
   * the answer is made, it never changes it.
   */
  protected shadowVerdict(input: unknown, given: PolicyResult, revision: string): ShadowVerdict | null {
    const shadow = this.#shadow?.shadow ?? null;
    if (shadow === null || shadow.revision === revision) return null;
    const result = shadow.decide(input);
    const reasons = codesOf(result);
    if (sameVerdict({ allow: result.allow, codes: reasons }, { allow: given.allow, codes: codesOf(given) }))
      return null;
    (this.#shadow as ShadowSource).stats.shadowDisagreements += 1;
    return { revision: shadow.revision, allow: result.allow, reasons };
  }

  /** The facts one request is decided on (chosen once, before any is read), as policy input. */
  protected inputsFor(call: CallContext): { facts: Facts; inputs: PolicyInputBuilder } {
    const facts = this.#facts.forRequest(call.consistency);
    return { facts, inputs: facts === this.#facts ? this.#inputs : new PolicyInputBuilder(facts) };
  }

  /**
   * Logs the entries (waiting for their commit in durable mode) and counts the answers. A log that
   * cannot take them refuses the answer; the refusal names the entry (or, for a batch, the batch).
   */
  protected async finish(
    endpoint: DecisionEndpoint,
    entries: DecisionLogEntry[],
    outcomes: string[],
    startedMs: number,
  ): Promise<void> {
    try {
      await this.#log.record(entries);
    } catch (error) {
      this.#metrics.decisions.inc({ endpoint, outcome: 'error' }, entries.length);
      if (!(error instanceof AppError)) throw error;
      const first = entries[0] as DecisionLogEntry;
      const details = first.batchId !== null ? { batch_id: first.batchId } : { decision_id: first.decisionId };
      throw new AppError(error.statusCode, error.code, error.message, { cause: error, details });
    }
    for (const outcome of outcomes) this.#metrics.decisions.inc({ endpoint, outcome });
    this.#metrics.decisionSeconds.observe({ endpoint }, (performance.now() - startedMs) / 1000);
  }
}
