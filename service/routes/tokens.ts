// API tokens (scope admin): create (the secret is shown once), list, read, revoke.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { route } from '../http/route.ts';
import type { Principal } from '../domain/tokens.ts';
import { actorOf, answerWithConsistencyToken } from '../http/write-answers.ts';

export default async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('admin');
  // What a token may grant, see and revoke depends on the token asking (TokenService).
  const callerOf = (request: FastifyRequest) => request.principal as Principal;
  const tokens = app.tokenService;
  answerWithConsistencyToken(app);

  route(app, 'createToken', {
    onRequest,
    handler: async (request, reply) => {
      const created = await tokens.create(callerOf(request), actorOf(request), request.body);
      return reply.code(201).send(created);
    },
  });
  route(app, 'getTokenSelf', {
    onRequest: app.requireToken,
    handler: async (request) => tokens.self(callerOf(request)),
  });

  route(app, 'listTokens', {
    onRequest,
    handler: async (request) => ({ tokens: await tokens.list(callerOf(request)) }),
  });
  route(app, 'getToken', {
    onRequest,
    handler: async (request) => tokens.get(callerOf(request), request.params.tokenId),
  });
  route(app, 'revokeToken', {
    onRequest,
    handler: async (request, reply) => {
      await tokens.revoke(callerOf(request), actorOf(request), request.params.tokenId);
      return reply.code(204).send();
    },
  });
}
