// Users of an account: the common routes, and PATCH (a JSON merge patch).
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../http/write-answers.ts';
import { memberRoutes } from './members.ts';
import { adminRoute, inPath, type PathOf, type Schemas } from './shared.ts';

export function userRoutes(app: FastifyInstance): void {
  const users = app.recordService.users;
  memberRoutes<Schemas['User'], Schemas['UserPut'], Schemas['UserList']>(app, 'users', 'userId', users);
  app.route<{ Params: PathOf<'patchUser'>; Body: Schemas['UserPatch'] }>({
    ...adminRoute(app, 'patch', '/v1/accounts/{accountId}/users/{userId}'),
    handler: async (request): Promise<Schemas['User']> => {
      const { accountId, userId } = request.params;
      return (await users.patch(actorOf(request), accountId, userId, request.body, inPath('userId'))).record;
    },
  });
}
