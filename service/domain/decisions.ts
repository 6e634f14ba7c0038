// Answers decision questions: loads the facts, asks the policy, shapes the answer and hands it to
// the decision log. Fails closed: a fact that cannot be loaded or a policy fault is an error,
// never an allow; such refusals are logged too.
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { DecisionEndpoint } from '../data/schema.ts';
import type { Reason } from '../policy/answers.ts';
import type { Policy } from '../policy/engine.ts';
import {
  asRefusal,
  batchItem,
  type BatchItemError,
  type CallContext,
  contextUnavailable,
  type DecisionAnswer,
  decidedOutcome,
  hasPolicyError,
  micros,
  newEntry,
  type Outcome,
  outcomeLabel,
  policyFault,
  type QueryAnswer,
  refused,
  requestEntry,
  withDecisionId,
} from './decision-entries.ts';

export type { BatchItemError, CallContext, DecisionAnswer, QueryAnswer, Timings } from './decision-entries.ts';
import type { DecisionLog, DecisionLogEntry } from './decision-log/index.ts';
import type { Facts, FactStore } from './facts.ts';
import type { Metrics } from './metrics.ts';
import { clientListInput, PolicyInputBuilder, type DecideRequest, type PolicyInput } from './policy-input.ts';
import { attributesRefusal } from './request-bounds.ts';

export class DecisionService {
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

  #policy(): Policy {
    const engine = this.#engine();
    if (engine === null) throw new AppError(503, 'policy_error', 'no policy is loaded');
    return engine;
  }

  /** The facts one request is decided on (chosen once, before any is read), as policy input. */
  #inputsFor(call: CallContext): { facts: Facts; inputs: PolicyInputBuilder } {
    const facts = this.#facts.forRequest(call.consistency);
    return { facts, inputs: facts === this.#facts ? this.#inputs : new PolicyInputBuilder(facts) };
  }

  async #decideOne(
    request: DecideRequest,
    call: CallContext,
    batchId: string | null,
    inputs: PolicyInputBuilder,
  ): Promise<Outcome> {
    const started = performance.now();
    const entry = requestEntry(request, call, batchId);
    let engine: Policy;
    let input: PolicyInput;
    try {
      engine = this.#policy();
      entry.policyRevision = engine.revision;
      input = await inputs.build(request);
      if (call.timings) call.timings.loadUs += micros(started);
    } catch (error) {
      const refusal = asRefusal(error);
      refused(entry, refusal, started);
      return { answer: null, error: refusal, entry };
    }
    entry.input = input;
    const evaluating = performance.now();
    const result = engine.decide(input);
    entry.evalUs = micros(evaluating);
    if (call.timings) call.timings.evalUs += entry.evalUs;
    return decidedOutcome(entry, engine.revision, result, started);
  }

  /** A request refused before it is decided: logged without an input (none was made). */
  #refuseOne(request: DecideRequest, call: CallContext, batchId: string | null, refusal: AppError): Outcome {
    const entry = requestEntry(request, call, batchId);
    refused(entry, refusal, performance.now());
    return { answer: null, error: refusal, entry };
  }

  /**
   * Logs the entries (waiting for their commit in durable mode) and counts the answers. A log that
   * cannot take them refuses the answer; the refusal names the entry (or, for a batch, the batch).
   */
  async #finish(
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

  /** One decision; a refusal for want of a decision is thrown (503) after it was logged. */
  async decide(request: DecideRequest, call: CallContext): Promise<DecisionAnswer> {
    const started = performance.now();
    return this.#answer(await this.#decideOne(request, call, null, this.#inputsFor(call).inputs), call, started);
  }

  /** The answer of one outcome, once logged; a refusal is thrown, naming its decision. */
  async #answer(outcome: Outcome, call: CallContext, started: number): Promise<DecisionAnswer> {
    await this.#finish(call.endpoint, [outcome.entry], [outcomeLabel(outcome)], started);
    if (outcome.error !== null) throw withDecisionId(outcome.error, outcome.entry.decisionId);
    return outcome.answer as DecisionAnswer;
  }

  /**
   * The policy's default decision, for a call that brings no request (OPA's answer to a query
   * without input): logged as an entry about no subject, action or resource, with no input.
   */
  async decideWithoutInput(call: CallContext): Promise<DecisionAnswer> {
    const started = performance.now();
    const entry = newEntry(call, null, { subjectId: null, action: null, resourceType: null, resourceId: null });
    let outcome: Outcome;
    try {
      const engine = this.#policy();
      entry.policyRevision = engine.revision;
      const evaluating = performance.now();
      const result = engine.decide(undefined);
      entry.evalUs = micros(evaluating);
      if (call.timings) call.timings.evalUs += entry.evalUs;
      outcome = decidedOutcome(entry, engine.revision, result, started);
    } catch (error) {
      const refusal = asRefusal(error);
      refused(entry, refusal, started);
      outcome = { answer: null, error: refusal, entry };
    }
    return this.#answer(outcome, call, started);
  }

  /**
   * Each request decided on its own; one that cannot be decided is a refusal carrying its error,
   * as is one whose attributes are out of bounds (400 invalid_request naming requests[i]). All
   * share a batch id in the log (batchId, when the caller names the batch).
   */
  async decideBatch(
    requests: DecideRequest[],
    call: CallContext,
    batchId: string = randomUUID(),
  ): Promise<Array<DecisionAnswer | BatchItemError>> {
    const started = performance.now();
    const { inputs } = this.#inputsFor(call);
    const outcomes = await Promise.all(
      requests.map((request, i) => {
        const refusal = attributesRefusal(request.resource.attributes, `requests[${i}].resource.attributes`);
        return refusal === null
          ? this.#decideOne(request, call, batchId, inputs)
          : this.#refuseOne(request, call, batchId, refusal);
      }),
    );
    await this.#finish(
      call.endpoint,
      outcomes.map((o) => o.entry),
      outcomes.map(outcomeLabel),
      started,
    );
    return outcomes.map(batchItem);
  }

  /**
   * The clients of the subject's account the subject may act on, judged by the policy in one
   * evaluation over all of them; the denied ones (with reasons) when asked. Logged as one entry
   * holding every client's outcome.
   */
  async queryClients(
    subjectId: string,
    action: string,
    includeDenied: boolean,
    call: CallContext,
  ): Promise<QueryAnswer> {
    const started = performance.now();
    const entry = newEntry(call, null, { subjectId, action, resourceType: 'client', resourceId: null });
    entry.allow = null;
    let answer: QueryAnswer;
    try {
      answer = await this.#query(subjectId, action, includeDenied, entry, started, this.#inputsFor(call));
    } catch (error) {
      const refusal = asRefusal(error);
      refused(entry, refusal, started);
      await this.#finish(call.endpoint, [entry], ['error'], started);
      throw withDecisionId(refusal, entry.decisionId);
    }
    await this.#finish(call.endpoint, [entry], ['list'], started);
    return answer;
  }

  async #query(
    subjectId: string,
    action: string,
    includeDenied: boolean,
    entry: DecisionLogEntry,
    started: number,
    { facts, inputs }: { facts: Facts; inputs: PolicyInputBuilder },
  ): Promise<QueryAnswer> {
    const engine = this.#policy();
    entry.policyRevision = engine.revision;
    let input: ReturnType<typeof clientListInput>;
    let ids: string[];
    try {
      const { user, subject, account } = await inputs.subject(subjectId);
      const [clients, links] =
        user === null ? [[], null] : await Promise.all([facts.accountClients(user.account_id), inputs.links(user.id)]);
      ids = clients.map((c) => c.id);
      input = clientListInput(action, subject, account, clients, links);
    } catch (error) {
      throw contextUnavailable(error);
    }
    entry.input = input;
    const evaluating = performance.now();
    const results = ids.length === 0 ? [] : engine.decideClients(input);
    entry.evalUs = micros(evaluating);
    const allowed: string[] = [];
    const denied: Array<{ id: string; reasons: Reason[] }> = [];
    const codes = new Set<string>();
    results.forEach((result, i) => {
      if (hasPolicyError(result)) throw policyFault(result);
      const id = ids[i] as string;
      if (result.allow) allowed.push(id);
      else {
        denied.push({ id, reasons: result.reasons });
        for (const reason of result.reasons) codes.add(reason.code);
      }
    });
    // The log keeps every client's outcome, whether or not the caller asked for the denied ones;
    // denied clients with their reason codes (the messages are the policy revision's).
    entry.result = { allowed, denied: denied.map(({ id, reasons }) => ({ id, codes: reasons.map((r) => r.code) })) };
    entry.reasonCodes = [...codes].sort();
    entry.durationUs = micros(started);
    return {
      decision_id: entry.decisionId,
      allowed,
      ...(includeDenied ? { denied } : {}),
      policy_revision: engine.revision,
    };
  }
}
