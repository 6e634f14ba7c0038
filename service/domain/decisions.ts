// Answers decision questions: loads the facts, asks the policy, shapes the answer and hands it to
// the decision log. Fails closed: a fact that cannot be loaded or a policy fault is an error,
// never an allow; such refusals are logged too.
import { randomUUID } from 'node:crypto';
import type { AppError } from '../errors.ts';
import { LOGGED_VERDICT_ENTRYPOINT, VERDICT_ENTRYPOINT } from '../policy/contracts.ts';
import type { Policy } from '../policy/engine.ts';
import {
  asRefusal,
  batchItem,
  type BatchItemError,
  type CallContext,
  type DecisionAnswer,
  decidedOutcome,
  micros,
  newEntry,
  type Outcome,
  outcomeLabel,
  refused,
  requestEntry,
  withDecisionId,
} from './decision-entries.ts';

import { DecisionPath, type FactSource } from './decision-path.ts';
import type { DecideRequest, PolicyInput } from './policy-input.ts';
import { ATTRIBUTE } from './spans.ts';
import { attributesRefusal } from './request-bounds.ts';

export type { BatchItemError, CallContext, DecisionAnswer, QueryAnswer, Timings } from './decision-entries.ts';

export class DecisionService extends DecisionPath {
  async #decideOne(
    request: DecideRequest,
    call: CallContext,
    batchId: string | null,
    from: FactSource,
  ): Promise<Outcome> {
    const started = performance.now();
    const entry = requestEntry(request, call, batchId);
    let engine: Policy;
    let input: PolicyInput;
    try {
      engine = this.policy();
      entry.policyRevision = engine.revision;
      input = await this.loadFacts(call, from, ({ inputs }) => inputs.build(request));
      if (call.timings) call.timings.loadUs += micros(started);
    } catch (error) {
      const refusal = asRefusal(error);
      refused(entry, refusal, started);
      return { answer: null, error: refusal, entry };
    }
    entry.input = input;
    const evaluating = performance.now();
    // One call gives the answer and the masks of its log entry.
    const logged = this.evaluate(call, engine, LOGGED_VERDICT_ENTRYPOINT, entry.decisionId, () =>
      engine.decideLogged(input, call.endpoint),
    );
    const { result } = logged;
    // '' when the input could not be written as JSON (the answer is then a policy_error refusal).
    if (logged.inputJson !== '') entry.inputJson = logged.inputJson;
    if (logged.masks !== null) entry.masks = logged.masks;
    entry.evalUs = micros(evaluating);
    if (call.timings) call.timings.evalUs += entry.evalUs;
    const outcome = decidedOutcome(entry, engine.revision, result, started);
    entry.shadow = this.shadowVerdict(input, result, engine.revision);
    return outcome;
  }

  /** A request refused before it is decided: logged without an input (none was made). */
  #refuseOne(request: DecideRequest, call: CallContext, batchId: string | null, refusal: AppError): Outcome {
    const entry = requestEntry(request, call, batchId);
    refused(entry, refusal, performance.now());
    return { answer: null, error: refusal, entry };
  }

  /** One decision; a refusal for want of a decision is thrown (503) after it was logged. */
  async decide(request: DecideRequest, call: CallContext): Promise<DecisionAnswer> {
    const started = performance.now();
    return this.#answer(await this.#decideOne(request, call, null, this.inputsFor(call)), call, started);
  }

  /** The answer of one outcome, once logged; a refusal is thrown, naming its decision. */
  async #answer(outcome: Outcome, call: CallContext, started: number): Promise<DecisionAnswer> {
    const { entry } = outcome;
    call.trace?.span.setAttributes({
      [ATTRIBUTE.decisionId]: entry.decisionId,
      ...(entry.allow === null
        ? { [ATTRIBUTE.refusal]: outcome.error?.code ?? 'error' }
        : { [ATTRIBUTE.allow]: entry.allow }),
      [ATTRIBUTE.reasonCodes]: entry.reasonCodes.length,
    });
    await this.finish(call, [outcome.entry], [outcomeLabel(outcome)], started);
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
      const engine = this.policy();
      entry.policyRevision = engine.revision;
      const evaluating = performance.now();
      const result = this.evaluate(call, engine, VERDICT_ENTRYPOINT, entry.decisionId, () => engine.decide(undefined));
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
    const from = this.inputsFor(call);
    call.trace?.span.setAttributes({ [ATTRIBUTE.batchId]: batchId, [ATTRIBUTE.decisions]: requests.length });
    const outcomes = await Promise.all(
      requests.map((request, i) => {
        const refusal = attributesRefusal(request.resource.attributes, `requests[${i}].resource.attributes`);
        return refusal === null
          ? this.#decideOne(request, call, batchId, from)
          : this.#refuseOne(request, call, batchId, refusal);
      }),
    );
    await this.finish(
      call,
      outcomes.map((o) => o.entry),
      outcomes.map(outcomeLabel),
      started,
    );
    return outcomes.map(batchItem);
  }
}
