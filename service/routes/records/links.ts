// Allocations and ledger access of one user, as a set of client ids: GET, PUT (the whole set),
// DELETE (the empty set).
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/write-answers.ts';
import { adminRoute, type PathOf, type Schemas } from './shared.ts';

/** The link tables and their path segments. */
export const LINKS = [
  { table: 'allocations', segment: 'allocations' },
  { table: 'ledger_access', segment: 'ledger-access' },
] as const;

export function linkRoutes(app: FastifyInstance): void {
  const links = app.recordService.links;
  for (const { table, segment } of LINKS) {
    const path = `/v1/accounts/{accountId}/users/{userId}/${segment}`;
    app.route<{ Params: PathOf<'getAllocations'> }>({
      ...adminRoute(app, 'get', path),
      handler: async (request): Promise<Schemas['ClientIds']> =>
        links.get(table, request.params.accountId, request.params.userId),
    });
    app.route<{ Params: PathOf<'putAllocations'>; Body: Schemas['ClientIds'] }>({
      ...adminRoute(app, 'put', path),
      handler: async (request): Promise<Schemas['ClientIds']> => {
        const { accountId, userId } = request.params;
        return links.put(actorOf(request), table, accountId, userId, request.body.client_ids);
      },
    });
    app.route<{ Params: PathOf<'deleteAllocations'> }>({
      ...adminRoute(app, 'delete', path),
      handler: async (request, reply) => {
        await links.put(actorOf(request), table, request.params.accountId, request.params.userId, []);
        return reply.code(204).send();
      },
    });
  }
}
