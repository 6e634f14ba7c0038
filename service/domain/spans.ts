// The spans a traced request makes as it is decided, with @opentelemetry/api alone (the SDK is set
// up in plugins/tracing.ts). An untraced request (tracing off, or not sampled) carries no Trace:
// then nothing here is called and no span object is made.
import { type Attributes, ROOT_CONTEXT, type Span, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';

/** A request being traced: the tracer and the request's span, the parent of the steps below. */
export interface Trace {
  readonly tracer: Tracer;
  readonly span: Span;
}

export const SPAN = {
  authenticate: 'clearance.authenticate',
  factsLoad: 'clearance.facts.load',
  policyEvaluate: 'clearance.policy.evaluate',
  logEnqueue: 'clearance.decision_log.enqueue',
} as const;

export const ATTRIBUTE = {
  decisionId: 'clearance.decision_id',
  batchId: 'clearance.batch_id',
  decisions: 'clearance.decisions',
  allow: 'clearance.allow',
  reasonCodes: 'clearance.reason_codes.count',
  refusal: 'clearance.refusal',
  endpoint: 'clearance.endpoint',
  entrypoint: 'clearance.policy.entrypoint',
  revision: 'clearance.policy.revision',
  factsSource: 'clearance.facts.source',
  factsCache: 'clearance.facts.cache',
  factsHits: 'clearance.facts.cache_hits',
  factsMisses: 'clearance.facts.cache_misses',
  tokenId: 'clearance.token_id',
} as const;

/** A child of the request's span; null when the request is not traced. */
export function startStep(parent: Trace | null, name: string, attributes?: Attributes): Span | null {
  if (parent === null) return null;
  return parent.tracer.startSpan(name, { attributes }, trace.setSpan(ROOT_CONTEXT, parent.span));
}

/** Records what went wrong on a span: the exception and status ERROR. */
export function failed(span: Span | null, error: unknown): void {
  if (span === null) return;
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Runs step as a child span of parent, ended (with status ERROR if it throws) when it settles. */
export async function traced<T>(
  parent: Trace | null,
  name: string,
  attributes: Attributes | undefined,
  step: (span: Span | null) => Promise<T>,
): Promise<T> {
  const span = startStep(parent, name, attributes);
  if (span === null) return step(null);
  try {
    return await step(span);
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The synchronous form of traced: step returns a value, which done may describe on the span. */
export function tracedSync<T>(
  parent: Trace | null,
  name: string,
  attributes: Attributes | undefined,
  step: () => T,
  done: (span: Span, value: T) => void,
): T {
  const span = startStep(parent, name, attributes);
  if (span === null) return step();
  try {
    const value = step();
    done(span, value);
    return value;
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}
