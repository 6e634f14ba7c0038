// Accounts: list, get, PUT, DELETE.
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/write-answers.ts';
import { adminRoute, pageOf, sendWritten, type PathOf, type QueryOf, type Schemas } from './shared.ts';

export function accountRoutes(app: FastifyInstance): void {
  const accounts = app.recordService.accounts;
  app.route<{ Querystring: QueryOf<'listAccounts'> }>({
    ...adminRoute(app, 'get', '/v1/accounts'),
    handler: async (request): Promise<Schemas['AccountList']> => accounts.list(pageOf(request.query)),
  });
  app.route<{ Params: PathOf<'getAccount'> }>({
    ...adminRoute(app, 'get', '/v1/accounts/{accountId}'),
    handler: async (request): Promise<Schemas['Account']> => accounts.get(request.params.accountId),
  });
  app.route<{ Params: PathOf<'putAccount'>; Body: Schemas['AccountPut'] }>({
    ...adminRoute(app, 'put', '/v1/accounts/{accountId}'),
    handler: async (request, reply) => {
      const written = await accounts.put(actorOf(request), request.params.accountId, request.body);
      return sendWritten<Schemas['Account']>(reply, written);
    },
  });
  app.route<{ Params: PathOf<'deleteAccount'> }>({
    ...adminRoute(app, 'delete', '/v1/accounts/{accountId}'),
    handler: async (request, reply) => {
      await accounts.delete(actorOf(request), request.params.accountId);
      return reply.code(204).send();
    },
  });
}
