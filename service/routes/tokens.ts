// API tokens (scope admin): create (the secret is shown once), list, read, revoke.
import type { FastifyInstance, FastifyRequest, HTTPMethods } from 'fastify';
import { specRoute } from '../http/openapi.ts';
import type { components, operations } from '../http/openapi-types.ts';
import type { Principal } from '../domain/tokens.ts';
import { actorOf, answerWithConsistencyToken, type Unstamped } from '../http/write-answers.ts';

type Schemas = components['schemas'];
type PathOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['path']>;

export default async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('admin');
  // What a token may grant, see and revoke depends on the token asking (TokenService).
  const callerOf = (request: FastifyRequest) => request.principal as Principal;
  const tokens = app.tokenService;
  answerWithConsistencyToken(app);
  const spec = (method: 'get' | 'post' | 'delete', path: string) => {
    const { url, schema } = specRoute(method, path);
    return { method: method.toUpperCase() as HTTPMethods, url, schema, onRequest };
  };

  app.route<{ Body: Schemas['TokenCreate'] }>({
    ...spec('post', '/v1/tokens'),
    handler: async (request, reply) => {
      const created: Unstamped<Schemas['TokenCreated']> = await tokens.create(callerOf(request), actorOf(request), request.body);
      return reply.code(201).send(created);
    },
  });
  app.route({
    ...spec('get', '/v1/tokens'),
    handler: async (request): Promise<Schemas['TokenList']> => ({ tokens: await tokens.list(callerOf(request)) }),
  });
  app.route<{ Params: PathOf<'getToken'> }>({
    ...spec('get', '/v1/tokens/{tokenId}'),
    handler: async (request): Promise<Schemas['Token']> => tokens.get(callerOf(request), request.params.tokenId),
  });
  app.route<{ Params: PathOf<'revokeToken'> }>({
    ...spec('delete', '/v1/tokens/{tokenId}'),
    handler: async (request, reply) => {
      await tokens.revoke(callerOf(request), actorOf(request), request.params.tokenId);
      return reply.code(204).send();
    },
  });
}
