// The context API of SPEC §3 (scope admin): accounts, users, clients, allocations, ledger access
// and items, one record at a time or in bulk. Schemas come from the OpenAPI document.
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Actor } from '../domain/audit.ts';
import type { Written } from '../domain/context.ts';
import { DEFAULT_PAGE_LIMIT, type PageQuery } from '../domain/paging.ts';
import type { Principal } from '../domain/tokens.ts';
import { specRoute } from '../http/openapi.ts';
import type { components, operations } from '../http/openapi-types.ts';

type Schemas = components['schemas'];
type PathOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['path']>;
type QueryOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

/** A bulk sync of 10,000 users with long names and ids is larger than the app-wide 4 MiB. */
export const SYNC_BODY_LIMIT = 16 * 1024 * 1024;

export const actorOf = (request: FastifyRequest): Actor => ({
  tokenId: (request.principal as Principal).tokenId,
  onCommit: (token) => {
    request.consistencyToken = token;
  },
});

/** A write's answer as the handler returns it; the consistency token is added on the way out. */
export type Unstamped<T> = Omit<T, 'consistency_token'>;

export const CONSISTENCY_TOKEN_HEADER = 'Clearance-Consistency-Token';

/**
 * For the routes of a plugin that writes: a committed write's answer carries its consistency
 * token, in a header (a 204 has no body) and in the body where there is one.
 */
export function answerWithConsistencyToken(app: FastifyInstance): void {
  app.addHook('preSerialization', async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) =>
    request.consistencyToken !== null && typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? { ...payload, consistency_token: request.consistencyToken }
      : payload,
  );
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.consistencyToken !== null) reply.header(CONSISTENCY_TOKEN_HEADER, request.consistencyToken);
    return payload;
  });
}

const pageOf = (query: { limit?: number; cursor?: string }): PageQuery => ({
  limit: query.limit ?? DEFAULT_PAGE_LIMIT,
  ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
});

/** 201 when the PUT created the record, 200 when it updated it or found it as sent. */
const sendWritten = <T>(reply: FastifyReply, result: Written<T>) => reply.code(result.outcome === 'created' ? 201 : 200).send(result.record);

const LINKS = [
  { table: 'allocations', segment: 'allocations' },
  { table: 'ledger_access', segment: 'ledger-access' },
] as const;

export default async function contextRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('admin');
  const context = app.contextService;
  answerWithConsistencyToken(app);
  const spec = (method: 'get' | 'put' | 'post' | 'patch' | 'delete', path: string) => {
    const { url, schema } = specRoute(method, path);
    return { method: method.toUpperCase() as HTTPMethods, url, schema, onRequest };
  };

  // Accounts.
  app.route<{ Querystring: QueryOf<'listAccounts'> }>({
    ...spec('get', '/v1/accounts'),
    handler: async (request): Promise<Schemas['AccountList']> => context.listAccounts(pageOf(request.query)),
  });
  app.route<{ Params: PathOf<'getAccount'> }>({
    ...spec('get', '/v1/accounts/{accountId}'),
    handler: async (request): Promise<Schemas['Account']> => context.getAccount(request.params.accountId),
  });
  app.route<{ Params: PathOf<'putAccount'>; Body: Schemas['AccountPut'] }>({
    ...spec('put', '/v1/accounts/{accountId}'),
    handler: async (request, reply) =>
      sendWritten<Schemas['Account']>(reply, await context.putAccount(actorOf(request), request.params.accountId, request.body)),
  });
  app.route<{ Params: PathOf<'deleteAccount'> }>({
    ...spec('delete', '/v1/accounts/{accountId}'),
    handler: async (request, reply) => {
      await context.deleteAccount(actorOf(request), request.params.accountId);
      return reply.code(204).send();
    },
  });

  // Users.
  app.route<{ Params: PathOf<'listUsers'>; Querystring: QueryOf<'listUsers'> }>({
    ...spec('get', '/v1/accounts/{accountId}/users'),
    handler: async (request): Promise<Schemas['UserList']> => context.listUsers(request.params.accountId, pageOf(request.query)),
  });
  app.route<{ Params: PathOf<'getUser'> }>({
    ...spec('get', '/v1/accounts/{accountId}/users/{userId}'),
    handler: async (request): Promise<Schemas['User']> => context.getUser(request.params.accountId, request.params.userId),
  });
  app.route<{ Params: PathOf<'putUser'>; Body: Schemas['UserPut'] }>({
    ...spec('put', '/v1/accounts/{accountId}/users/{userId}'),
    handler: async (request, reply) => {
      const { accountId, userId } = request.params;
      return sendWritten<Schemas['User']>(reply, await context.putUser(actorOf(request), accountId, userId, request.body));
    },
  });
  app.route<{ Params: PathOf<'patchUser'>; Body: Schemas['UserPatch'] }>({
    ...spec('patch', '/v1/accounts/{accountId}/users/{userId}'),
    handler: async (request): Promise<Schemas['User']> => {
      const { accountId, userId } = request.params;
      return (await context.patchUser(actorOf(request), accountId, userId, request.body)).record;
    },
  });
  app.route<{ Params: PathOf<'deleteUser'> }>({
    ...spec('delete', '/v1/accounts/{accountId}/users/{userId}'),
    handler: async (request, reply) => {
      await context.deleteUser(actorOf(request), request.params.accountId, request.params.userId);
      return reply.code(204).send();
    },
  });

  // Allocations and ledger access of one user.
  for (const { table, segment } of LINKS) {
    const path = `/v1/accounts/{accountId}/users/{userId}/${segment}`;
    app.route<{ Params: PathOf<'getAllocations'> }>({
      ...spec('get', path),
      handler: async (request): Promise<Schemas['ClientIds']> => context.getLinks(table, request.params.accountId, request.params.userId),
    });
    app.route<{ Params: PathOf<'putAllocations'>; Body: Schemas['ClientIds'] }>({
      ...spec('put', path),
      handler: async (request): Promise<Schemas['ClientIds']> => {
        const { accountId, userId } = request.params;
        return context.putLinks(actorOf(request), table, accountId, userId, request.body.client_ids);
      },
    });
    app.route<{ Params: PathOf<'deleteAllocations'> }>({
      ...spec('delete', path),
      handler: async (request, reply) => {
        await context.putLinks(actorOf(request), table, request.params.accountId, request.params.userId, []);
        return reply.code(204).send();
      },
    });
  }

  // Clients.
  app.route<{ Params: PathOf<'listClients'>; Querystring: QueryOf<'listClients'> }>({
    ...spec('get', '/v1/accounts/{accountId}/clients'),
    handler: async (request): Promise<Schemas['ClientList']> => context.listClients(request.params.accountId, pageOf(request.query)),
  });
  app.route<{ Params: PathOf<'getClient'> }>({
    ...spec('get', '/v1/accounts/{accountId}/clients/{clientId}'),
    handler: async (request): Promise<Schemas['Client']> => context.getClient(request.params.accountId, request.params.clientId),
  });
  app.route<{ Params: PathOf<'putClient'>; Body: Schemas['ClientPut'] }>({
    ...spec('put', '/v1/accounts/{accountId}/clients/{clientId}'),
    handler: async (request, reply) => {
      const { accountId, clientId } = request.params;
      return sendWritten<Schemas['Client']>(reply, await context.putClient(actorOf(request), accountId, clientId, request.body));
    },
  });
  app.route<{ Params: PathOf<'deleteClient'> }>({
    ...spec('delete', '/v1/accounts/{accountId}/clients/{clientId}'),
    handler: async (request, reply) => {
      await context.deleteClient(actorOf(request), request.params.accountId, request.params.clientId);
      return reply.code(204).send();
    },
  });

  // Items.
  app.route<{ Params: PathOf<'listItems'>; Querystring: QueryOf<'listItems'> }>({
    ...spec('get', '/v1/accounts/{accountId}/items'),
    handler: async (request): Promise<Schemas['ItemList']> => context.listItems(request.params.accountId, pageOf(request.query)),
  });
  app.route<{ Params: PathOf<'getItem'> }>({
    ...spec('get', '/v1/accounts/{accountId}/items/{itemId}'),
    handler: async (request): Promise<Schemas['Item']> => context.getItem(request.params.accountId, request.params.itemId),
  });
  app.route<{ Params: PathOf<'putItem'>; Body: Schemas['ItemPut'] }>({
    ...spec('put', '/v1/accounts/{accountId}/items/{itemId}'),
    handler: async (request, reply) => {
      const { accountId, itemId } = request.params;
      return sendWritten<Schemas['Item']>(reply, await context.putItem(actorOf(request), accountId, itemId, request.body));
    },
  });
  app.route<{ Params: PathOf<'deleteItem'> }>({
    ...spec('delete', '/v1/accounts/{accountId}/items/{itemId}'),
    handler: async (request, reply) => {
      await context.deleteItem(actorOf(request), request.params.accountId, request.params.itemId);
      return reply.code(204).send();
    },
  });

  // Bulk syncs: one request, one transaction, up to 10,000 records of one kind.
  const sync = (kind: string) => ({ ...spec('post', `/v1/accounts/{accountId}/sync/${kind}`), bodyLimit: SYNC_BODY_LIMIT });
  app.route<{ Params: PathOf<'syncUsers'>; Body: Schemas['SyncUsersRequest'] }>({
    ...sync('users'),
    handler: async (request): Promise<Unstamped<Schemas['SyncResult']>> =>
      context.syncUsers(actorOf(request), request.params.accountId, request.body.records, request.body.mode ?? 'upsert'),
  });
  app.route<{ Params: PathOf<'syncClients'>; Body: Schemas['SyncClientsRequest'] }>({
    ...sync('clients'),
    handler: async (request): Promise<Unstamped<Schemas['SyncResult']>> =>
      context.syncClients(actorOf(request), request.params.accountId, request.body.records, request.body.mode ?? 'upsert'),
  });
  app.route<{ Params: PathOf<'syncItems'>; Body: Schemas['SyncItemsRequest'] }>({
    ...sync('items'),
    handler: async (request): Promise<Unstamped<Schemas['SyncResult']>> =>
      context.syncItems(actorOf(request), request.params.accountId, request.body.records, request.body.mode ?? 'upsert'),
  });
  for (const { table, segment } of LINKS) {
    app.route<{ Params: PathOf<'syncAllocations'>; Body: Schemas['SyncLinksRequest'] }>({
      ...sync(segment),
      handler: async (request): Promise<Unstamped<Schemas['SyncResult']>> =>
        context.syncLinks(actorOf(request), table, request.params.accountId, request.body.records, request.body.mode ?? 'upsert'),
    });
  }
}
