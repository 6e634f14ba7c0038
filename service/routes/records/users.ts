// Users of an account: the common routes, and PATCH (a JSON merge patch).
import type { FastifyInstance } from 'fastify';
import { userRecords } from '../../domain/records/users.ts';
import { route } from '../../http/route.ts';
import { actorOf } from '../../http/write-answers.ts';
import { memberHandlers } from './members.ts';
import { inPath } from './shared.ts';

export default function userRoutes(app: FastifyInstance): void {
  const onRequest = app.requireScope('admin');
  const users = userRecords(app.recordStore);
  const handlers = memberHandlers(users, 'userId');
  route(app, 'listUsers', { onRequest, handler: handlers.list });
  route(app, 'getUser', { onRequest, handler: handlers.get });
  route(app, 'putUser', { onRequest, handler: handlers.put });
  route(app, 'deleteUser', { onRequest, handler: handlers.delete });
  route(app, 'patchUser', {
    onRequest,
    handler: async (request) => {
      const { accountId, userId } = request.params;
      return (await users.patch(actorOf(request), accountId, userId, request.body, inPath('userId'))).record;
    },
  });
}
