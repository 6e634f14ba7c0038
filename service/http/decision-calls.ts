// What a decision request says about itself beyond its body: who asked, through which endpoint,
// and how fresh the facts must be (the OPA paths' bodies are OPA's, so that comes as a header).
import type { FastifyRequest } from 'fastify';
import type { DecisionEndpoint } from '../data/schema.ts';
import { CACHED, requestedConsistency, tokenTransaction, type Consistency } from '../domain/consistency.ts';
import type { CallContext } from '../domain/decisions.ts';
import { badRequest } from '../errors.ts';

export const callOf = (request: FastifyRequest, endpoint: DecisionEndpoint, consistency: Consistency): CallContext => ({
  tokenId: request.principal?.tokenId ?? null,
  endpoint,
  consistency,
  trace: request.trace,
});

/** The OPA path's body is OPA's ({"input": …}), so the consistency comes as a header. */
const CONSISTENCY_HEADER = 'Clearance-Consistency';

/** The header's value: "fresh" or "at_least=<consistency token>", as the body's `consistency` field says it. */
export function headerConsistency(request: FastifyRequest): Consistency {
  const value = request.headers[CONSISTENCY_HEADER.toLowerCase()];
  if (value === undefined) return CACHED;
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === 'fresh') return requestedConsistency('fresh', CONSISTENCY_HEADER);
  const token = /^at_least=(.*)$/.exec(text)?.[1];
  if (token === undefined) {
    const message = `${CONSISTENCY_HEADER} must be "fresh" or "at_least=<consistency token>", sent once`;
    throw badRequest('invalid_request', message, { field: CONSISTENCY_HEADER });
  }
  return { kind: 'at_least', transaction: tokenTransaction(token, CONSISTENCY_HEADER) };
}
