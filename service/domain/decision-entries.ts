// The decision log entry of one request and the refusals of the decision path: an entry is made
// before a decision, filled in as it goes, and records a refusal as the caller gets it.
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { PolicyResult } from '../policy/answers.ts';
import type { DecisionLogEntry } from './decision-log/index.ts';
import type { CallContext } from './decisions.ts';
import type { DecideRequest } from './policy-input.ts';

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
  new AppError(error.statusCode, error.code, error.message, { cause: error, details: { decision_id: decisionId } });

export const asRefusal = (error: unknown) => (error instanceof AppError ? error : contextUnavailable(error));
