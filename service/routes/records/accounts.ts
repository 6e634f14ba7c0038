// Accounts: list, get, PUT, DELETE.
import type { FastifyInstance } from 'fastify';
import { accountRecords } from '../../domain/records/accounts.ts';
import { route } from '../../http/route.ts';
import { actorOf } from '../../http/write-answers.ts';
import { sendEmpty, sendWritten } from './shared.ts';

export default function accountRoutes(app: FastifyInstance): void {
  const onRequest = app.requireScope('admin');
  const accounts = accountRecords(app.recordStore);
  route(app, 'listAccounts', { onRequest, handler: async (request) => accounts.list(request.query) });
  route(app, 'getAccount', { onRequest, handler: async (request) => accounts.get(request.params.accountId) });
  route(app, 'putAccount', {
    onRequest,
    handler: async (request, reply) =>
      sendWritten(reply, await accounts.put(actorOf(request), request.params.accountId, request.body)),
  });
  route(app, 'deleteAccount', {
    onRequest,
    handler: async (request, reply) => {
      await accounts.delete(actorOf(request), request.params.accountId);
      return sendEmpty(reply);
    },
  });
}
