// API tokens (scope admin): create (the secret is shown once), list, read, revoke.
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { specRoute } from '../http/openapi.ts';
import type { components, operations } from '../http/openapi-types.ts';
import { actorOf, answerWithConsistencyToken, type Unstamped } from './context.ts';

type Schemas = components['schemas'];
type PathOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['path']>;

export default async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('admin');
  const tokens = app.tokenService;
  answerWithConsistencyToken(app);
  const spec = (method: 'get' | 'post' | 'delete', path: string) => {
    const { url, schema } = specRoute(method, path);
    return { method: method.toUpperCase() as HTTPMethods, url, schema, onRequest };
  };

  app.route<{ Body: Schemas['TokenCreate'] }>({
    ...spec('post', '/v1/tokens'),
    handler: async (request, reply) => {
      const created: Unstamped<Schemas['TokenCreated']> = await tokens.create(actorOf(request), request.body);
      return reply.code(201).send(created);
    },
  });
  app.route({
    ...spec('get', '/v1/tokens'),
    handler: async (): Promise<Schemas['TokenList']> => ({ tokens: await tokens.list() }),
  });
  app.route<{ Params: PathOf<'getToken'> }>({
    ...spec('get', '/v1/tokens/{tokenId}'),
    handler: async (request): Promise<Schemas['Token']> => tokens.get(request.params.tokenId),
  });
  app.route<{ Params: PathOf<'revokeToken'> }>({
    ...spec('delete', '/v1/tokens/{tokenId}'),
    handler: async (request, reply) => {
      await tokens.revoke(actorOf(request), request.params.tokenId);
      return reply.code(204).send();
    },
  });
}
