// The decision log entry of one request and the refusals of the decision path: an entry is made
// before a decision, filled in as it goes, and records a refusal as the caller gets it.
import type { Trace } from './spans.ts';
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { PolicyResult, Reason } from '../policy/answers.ts';
import type { DecisionEndpoint } from '../data/schema.ts';
import type { DecisionLogEntry } from './decision-log/index.ts';
import type { Consistency } from './consistency.ts';
import type { DecideRequest } from './policy-input.ts';

export interface DecisionAnswer {
  decision_id: string;
  allow: boolean;
  reasons: Reason[];
  policy_revision: string;
}

export interface BatchItemError {
  decision_id: string;
  allow: false;
  reasons: Reason[];
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface QueryAnswer {
  decision_id: string;
  allowed: string[];
  denied?: Array<{ id: string; reasons: Reason[] }>;
  policy_revision: string;
}

/** Who asked and through which endpoint, for the log; and how fresh the facts must be. */
export interface CallContext {
  tokenId: string | null;
  endpoint: DecisionEndpoint;
  /** The cache as it stands when absent. */
  consistency?: Consistency;
  /** When given, the time spent loading facts and evaluating the policy is added to it (OPA's metrics). */
  timings?: Timings;
  /** The request's trace, when it is traced (and sampled): each step below becomes a span of it. */
  trace?: Trace | null;
}

export interface Timings {
  loadUs: number;
  evalUs: number;
}

/** One request decided, or refused for want of a decision, with what the log keeps of it. */
export interface Outcome {
  answer: DecisionAnswer | null;
  error: AppError | null;
  entry: DecisionLogEntry;
}

export const contextUnavailable = (cause: unknown) =>
  new AppError(503, 'context_unavailable', 'the facts for this decision could not be loaded (database unavailable)', {
    cause,
  });

export const policyFault = (result: PolicyResult) =>
  new AppError(503, 'policy_error', result.reasons.map((r) => r.message).join('; '));

export function hasPolicyError(result: PolicyResult): boolean {
  return result.reasons.some((r) => r.code === 'policy_error');
}

/** Microseconds since fromMs (a performance.now() reading), to the nanosecond. */
export const micros = (fromMs: number) => Math.round((performance.now() - fromMs) * 1_000_000) / 1000;

/** A log entry for one request, before it is decided. */
export function newEntry(
  call: CallContext,
  batchId: string | null,
  about: Pick<DecisionLogEntry, 'subjectId' | 'action' | 'resourceType' | 'resourceId'>,
): DecisionLogEntry {
  return {
    decisionId: randomUUID(),
    decidedAt: new Date(),
    endpoint: call.endpoint,
    batchId,
    tokenId: call.tokenId,
    ...about,
    input: null,
    result: null,
    allow: false,
    reasonCodes: [],
    error: null,
    policyRevision: null,
    shadow: null,
    evalUs: null,
    durationUs: 0,
  };
}

export const requestEntry = ({ subject, action, resource }: DecideRequest, call: CallContext, batchId: string | null) =>
  newEntry(call, batchId, {
    subjectId: subject.id,
    action,
    resourceType: resource.type,
    resourceId: resource.id ?? null,
  });

/** Records in the entry that no decision could be made, and why. */
export function refused(entry: DecisionLogEntry, error: AppError, startedMs: number): void {
  const reason = { code: error.code, message: error.message };
  entry.allow = false;
  entry.error = reason;
  entry.reasonCodes = [error.code];
  entry.result = { allow: false, reasons: [reason] };
  entry.durationUs = micros(startedMs);
}

/** The refusal as the caller sees it: the same error, naming the logged decision. */
export const withDecisionId = (error: AppError, decisionId: string) =>
  new AppError(error.statusCode, error.code, error.message, {
    cause: error,
    details: { ...error.details, decision_id: decisionId },
  });

export const asRefusal = (error: unknown) => (error instanceof AppError ? error : contextUnavailable(error));

/** The entry and answer of a decision the policy made (a policy fault is a refusal). */
export function decidedOutcome(
  entry: DecisionLogEntry,
  revision: string,
  result: PolicyResult,
  started: number,
): Outcome {
  if (hasPolicyError(result)) {
    const refusal = policyFault(result);
    refused(entry, refusal, started);
    return { answer: null, error: refusal, entry };
  }
  entry.result = { allow: result.allow, reasons: result.reasons };
  entry.allow = result.allow;
  entry.reasonCodes = result.reasons.map((r) => r.code);
  entry.durationUs = micros(started);
  return {
    answer: { decision_id: entry.decisionId, allow: result.allow, reasons: result.reasons, policy_revision: revision },
    error: null,
    entry,
  };
}

export const outcomeLabel = (outcome: Outcome): string =>
  outcome.error !== null ? 'error' : outcome.answer?.allow ? 'allow' : 'deny';

/** A batch item's answer: the decision, or the refusal carrying its error. */
export function batchItem({ answer, error, entry }: Outcome): DecisionAnswer | BatchItemError {
  if (answer !== null) return answer;
  const { code, message, details } = error as AppError;
  return {
    decision_id: entry.decisionId,
    allow: false as const,
    reasons: [{ code, message }],
    error: { code, message, ...(details === undefined ? {} : { details }) },
  };
}

/**
 * Refusals of the request itself (the action, or the kind of resource or account it needs),
 * which every outcome of a list then carries alike.
 */
const REQUEST_REFUSALS = ['unknown_action', 'resource_type_mismatch', 'account_kind_not_supported'];

/**
 * The 400 for a list every outcome of which is the same refusal of the request itself, naming
 * fieldOf(code); null when the outcomes differ (or there are none). A list answers that as an
 * error rather than as everyone refused for the same reason.
 */
export function requestRefusal(results: readonly PolicyResult[], fieldOf: (code: string) => string): AppError | null {
  for (const code of REQUEST_REFUSALS) {
    const reason = results[0]?.reasons.find((r) => r.code === code);
    if (reason !== undefined && results.every((r) => !r.allow && r.reasons.some((x) => x.code === code))) {
      return new AppError(400, code, reason.message, { details: { field: fieldOf(code) } });
    }
  }
  return null;
}
