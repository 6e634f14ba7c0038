// Allocations and ledger access of one user, as a set of client ids: GET, PUT (the whole set),
// DELETE (the empty set).
import type { FastifyInstance } from 'fastify';
import type { LinkTable } from '../../data/schema.ts';
import { linkRecords } from '../../domain/records/links.ts';
import { route } from '../../http/route.ts';
import { actorOf } from '../../http/write-answers.ts';
import { sendEmpty, type EmptyReply, type RecordRequest } from './shared.ts';

type UserRequest<Body = unknown> = RecordRequest<{ accountId: string; userId: string }, Body>;

/** The handlers of one link table; each table registers them under its own operations. */
function linkHandlers(links: ReturnType<typeof linkRecords>, table: LinkTable) {
  return {
    get: async ({ params }: UserRequest) => links.get(table, params.accountId, params.userId),
    put: async (request: UserRequest<{ client_ids: string[] }>) => {
      const { accountId, userId } = request.params;
      return links.put(actorOf(request), table, accountId, userId, request.body.client_ids);
    },
    delete: async <R extends EmptyReply>(request: UserRequest, reply: R): Promise<R> => {
      await links.put(actorOf(request), table, request.params.accountId, request.params.userId, []);
      return sendEmpty(reply);
    },
  };
}

export default function linkRoutes(app: FastifyInstance): void {
  const onRequest = app.requireScope('admin');
  const links = linkRecords(app.recordStore);
  const allocations = linkHandlers(links, 'allocations');
  const ledgerAccess = linkHandlers(links, 'ledger_access');
  route(app, 'getAllocations', { onRequest, handler: allocations.get });
  route(app, 'putAllocations', { onRequest, handler: allocations.put });
  route(app, 'deleteAllocations', { onRequest, handler: allocations.delete });
  route(app, 'getLedgerAccess', { onRequest, handler: ledgerAccess.get });
  route(app, 'putLedgerAccess', { onRequest, handler: ledgerAccess.put });
  route(app, 'deleteLedgerAccess', { onRequest, handler: ledgerAccess.delete });
}
