// What every decision path shares: the loaded policy, the facts a request is decided on, and
// handing its answers to the decision log (with their metrics). DecisionService (single decisions
// and batches) and ListQueries (lists of clients and of subjects) are built on it.
import { AppError } from '../errors.ts';
import type { ShadowVerdict } from '../data/schema.ts';
import { codesOf, type PolicyResult, sameVerdict } from '../policy/answers.ts';
import type { LoggedDecision, Policy } from '../policy/engine.ts';
import { type CallContext, hasPolicyError } from './decision-entries.ts';
import type { DecisionLog, DecisionLogEntry } from './decision-log/index.ts';
import type { Facts, FactStore, FactTally } from './facts.ts';
import type { Metrics } from './metrics.ts';
import { PolicyInputBuilder } from './policy-input.ts';
import { ATTRIBUTE, failed, SPAN, traced, tracedSync } from './spans.ts';

/** The facts one request reads, and the policy input made from them. */
export interface FactSource {
  facts: Facts;
  inputs: PolicyInputBuilder;
}

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
  protected inputsFor(call: CallContext): FactSource {
    const facts = this.#facts.forRequest(call.consistency);
    return { facts, inputs: facts === this.#facts ? this.#inputs : new PolicyInputBuilder(facts) };
  }

  /**
   * Loads what a decision needs from the facts: for a traced request, in a span saying whether they
   * came from the cache (how many reads hit it, how many went to the database) or from the database.
   */
  protected async loadFacts<T>(
    call: CallContext,
    from: FactSource,
    load: (from: FactSource) => Promise<T>,
  ): Promise<T> {
    const parent = call.trace ?? null;
    if (parent === null) return load(from);
    const tally: FactTally = { hits: 0, misses: 0, source: 'cache' };
    const facts = this.#facts.tallied(from.facts, tally);
    return traced(parent, SPAN.factsLoad, undefined, async (span) => {
      try {
        return await load({ facts, inputs: new PolicyInputBuilder(facts) });
      } finally {
        span?.setAttributes({
          [ATTRIBUTE.factsSource]: tally.source,
          [ATTRIBUTE.factsCache]: tally.source === 'database' || tally.misses > 0 ? 'miss' : 'hit',
          [ATTRIBUTE.factsHits]: tally.hits,
          [ATTRIBUTE.factsMisses]: tally.misses,
        });
      }
    });
  }

  /** Evaluates the policy: for a traced request, in a span naming the entrypoint, revision and decision. */
  protected evaluate<T extends PolicyResult | PolicyResult[] | LoggedDecision>(
    call: CallContext,
    engine: Policy,
    entrypoint: string,
    decisionId: string,
    evaluate: () => T,
  ): T {
    if ((call.trace ?? null) === null) return evaluate();
    const attributes = {
      [ATTRIBUTE.entrypoint]: entrypoint,
      [ATTRIBUTE.revision]: engine.revision,
      [ATTRIBUTE.decisionId]: decisionId,
    };
    return tracedSync(call.trace ?? null, SPAN.policyEvaluate, attributes, evaluate, (span, evaluated) => {
      const result: PolicyResult | PolicyResult[] = 'inputJson' in evaluated ? evaluated.result : evaluated;
      const results: PolicyResult[] = Array.isArray(result) ? result : [result];
      if (!Array.isArray(result)) {
        span.setAttributes({ [ATTRIBUTE.allow]: result.allow, [ATTRIBUTE.reasonCodes]: codesOf(result).length });
      } else span.setAttribute(ATTRIBUTE.decisions, result.length);
      const fault = results.find(hasPolicyError);
      if (fault !== undefined) failed(span, new Error(`policy error: ${codesOf(fault).join(', ')}`));
    });
  }

  /**
   * Logs the entries (waiting for their commit in durable mode) and counts the answers. A log that
   * cannot take them refuses the answer; the refusal names the entry (or, for a batch, the batch).
   */
  protected async finish(
    call: CallContext,
    entries: DecisionLogEntry[],
    outcomes: string[],
    startedMs: number,
  ): Promise<void> {
    const { endpoint } = call;
    try {
      const attributes = { [ATTRIBUTE.decisions]: entries.length };
      await traced(call.trace ?? null, SPAN.logEnqueue, attributes, () => this.#log.record(entries));
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
