// Bulk syncs: one request, one transaction, up to 10,000 records of one kind.
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../../domain/audit.ts';
import type { Naming, SyncCounts, SyncMode } from '../../domain/records/upsert.ts';
import { actorOf, type Unstamped } from '../../http/write-answers.ts';
import { LINKS } from './links.ts';
import { adminRoute, inRecords, type PathOf, type Schemas } from './shared.ts';

/** A bulk sync of 10,000 users with long names and ids is larger than the app-wide 4 MiB. */
export const SYNC_BODY_LIMIT = 16 * 1024 * 1024;

type SyncWrite<R> = (actor: Actor, accountId: string, records: R, mode: SyncMode, naming: Naming) =>
  Promise<SyncCounts>;

function syncRoute<R>(app: FastifyInstance, kind: string, write: SyncWrite<R>): void {
  app.route<{ Params: PathOf<'syncUsers'>; Body: { records: R; mode?: SyncMode } }>({
    ...adminRoute(app, 'post', `/v1/accounts/{accountId}/sync/${kind}`),
    bodyLimit: SYNC_BODY_LIMIT,
    handler: async (request): Promise<Unstamped<Schemas['SyncResult']>> =>
      write(actorOf(request), request.params.accountId, request.body.records, request.body.mode ?? 'upsert', inRecords),
  });
}

export function syncRoutes(app: FastifyInstance): void {
  const sync = app.recordService.sync;
  syncRoute<Schemas['SyncUsersRequest']['records']>(app, 'users', sync.users);
  syncRoute<Schemas['SyncClientsRequest']['records']>(app, 'clients', sync.clients);
  syncRoute<Schemas['SyncItemsRequest']['records']>(app, 'items', sync.items);
  for (const { table, segment } of LINKS) {
    syncRoute<Schemas['SyncLinksRequest']['records']>(app, segment, (actor, accountId, records, mode, naming) =>
      sync.links(actor, table, accountId, records, mode, naming),
    );
  }
}
