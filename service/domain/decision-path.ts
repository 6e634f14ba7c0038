// What every decision path shares: the loaded policy, the facts a request is decided on, and
// handing its answers to the decision log (with their metrics). DecisionService (single decisions
// and batches) and ListQueries (lists of clients and of subjects) are built on it.
import { AppError } from '../errors.ts';
import type { DecisionEndpoint } from '../data/schema.ts';
import type { Policy } from '../policy/engine.ts';
import type { CallContext } from './decision-entries.ts';
import type { DecisionLog, DecisionLogEntry } from './decision-log/index.ts';
import type { Facts, FactStore } from './facts.ts';
import type { Metrics } from './metrics.ts';
import { PolicyInputBuilder } from './policy-input.ts';

export abstract class DecisionPath {
  readonly #inputs: PolicyInputBuilder;
  readonly #facts: FactStore;
  readonly #engine: () => Policy | null;
  readonly #log: DecisionLog;
  readonly #metrics: Metrics;

  constructor(facts: FactStore, engine: () => Policy | null, log: DecisionLog, metrics: Metrics) {
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
