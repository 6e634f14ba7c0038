// The routes every record of an account has (users, clients, items): list, get, PUT, DELETE.
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../../domain/audit.ts';
import type { PageQuery } from '../../domain/paging.ts';
import type { Naming, Written } from '../../domain/records/upsert.ts';
import { actorOf } from '../../http/write-answers.ts';
import { adminRoute, inPath, pageOf, sendWritten } from './shared.ts';

/** A kind's records as the routes use them, typed by the OpenAPI schemas: V read, I written, L a page. */
export interface MemberRecords<V, I, L> {
  list(accountId: string, query: PageQuery): Promise<L>;
  get(accountId: string, id: string): Promise<V>;
  put(actor: Actor, accountId: string, id: string, input: I, naming: Naming): Promise<Written<V>>;
  delete(actor: Actor, accountId: string, id: string): Promise<void>;
}

export function memberRoutes<V, I, L>(
  app: FastifyInstance,
  segment: 'users' | 'clients' | 'items',
  idParameter: string,
  records: MemberRecords<V, I, L>,
): void {
  type Params = Record<string, string>;
  // Both are required by the route's schema.
  const idsOf = (params: Params) => [params.accountId, params[idParameter]] as [string, string];
  const list = `/v1/accounts/{accountId}/${segment}`;
  const one = `${list}/{${idParameter}}`;
  const naming = inPath(idParameter);
  app.route<{ Params: { accountId: string }; Querystring: { limit?: number; cursor?: string } }>({
    ...adminRoute(app, 'get', list),
    handler: async (request): Promise<L> => records.list(request.params.accountId, pageOf(request.query)),
  });
  app.route<{ Params: Params }>({
    ...adminRoute(app, 'get', one),
    handler: async (request): Promise<V> => records.get(...idsOf(request.params)),
  });
  app.route<{ Params: Params; Body: I }>({
    ...adminRoute(app, 'put', one),
    handler: async (request, reply) => {
      const written = await records.put(actorOf(request), ...idsOf(request.params), request.body as I, naming);
      return sendWritten(reply, written);
    },
  });
  app.route<{ Params: Params }>({
    ...adminRoute(app, 'delete', one),
    handler: async (request, reply) => {
      await records.delete(actorOf(request), ...idsOf(request.params));
      return reply.code(204).send();
    },
  });
}
