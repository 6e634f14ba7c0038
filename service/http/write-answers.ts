// The answer of a write (the records API, token management): who made it, for the audit trail,
// and the consistency token of the committed transaction, for the caller's next read.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../domain/audit.ts';
import type { Principal } from '../domain/tokens.ts';

export const actorOf = (request: FastifyRequest): Actor => ({
  tokenId: (request.principal as Principal).tokenId,
  onCommit: (token) => {
    request.consistencyToken = token;
  },
});

export const CONSISTENCY_TOKEN_HEADER = 'Clearance-Consistency-Token';

/**
 * For the routes of a plugin that writes: a committed write's answer carries its consistency
 * token, in a header (a 204 has no body) and in the body where there is one.
 */
export function answerWithConsistencyToken(app: FastifyInstance): void {
  app.addHook('preSerialization', async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) =>
    request.consistencyToken !== null && typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? { ...payload, consistency_token: request.consistencyToken }
      : payload,
  );
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.consistencyToken !== null) reply.header(CONSISTENCY_TOKEN_HEADER, request.consistencyToken);
    return payload;
  });
}
