// Bulk syncs: one request, one transaction, up to 10,000 records of one kind.
import type { FastifyInstance } from 'fastify';
import type { LinkTable } from '../../data/schema.ts';
import type { Actor } from '../../domain/audit.ts';
import { bulkSync } from '../../domain/records/sync.ts';
import type { Naming, SyncCounts, SyncMode } from '../../domain/records/upsert.ts';
import type { components } from '../../http/openapi-types.ts';
import { route } from '../../http/route.ts';
import { actorOf } from '../../http/write-answers.ts';
import { inRecords, type RecordRequest } from './shared.ts';

/** A bulk sync of 10,000 users with long names and ids is larger than the app-wide 4 MiB. */
export const SYNC_BODY_LIMIT = 16 * 1024 * 1024;

type SyncWrite<R> = (
  actor: Actor,
  accountId: string,
  records: R,
  mode: SyncMode,
  naming: Naming,
) => Promise<SyncCounts>;

/** The handler of one kind's sync; route() checks it against the kind's operation. */
const syncHandler =
  <R>(write: SyncWrite<R>) =>
  async (request: RecordRequest<{ accountId: string }, { records: R; mode?: SyncMode }>) =>
    write(actorOf(request), request.params.accountId, request.body.records, request.body.mode ?? 'upsert', inRecords);

export default function syncRoutes(app: FastifyInstance): void {
  const sync = bulkSync(app.recordStore);
  const links =
    (table: LinkTable): SyncWrite<components['schemas']['SyncLinksRequest']['records']> =>
    (actor, accountId, records, mode, naming) =>
      sync.links(actor, table, accountId, records, mode, naming);
  const options = { onRequest: app.requireScope('admin'), bodyLimit: SYNC_BODY_LIMIT };
  route(app, 'syncUsers', { ...options, handler: syncHandler(sync.users) });
  route(app, 'syncClients', { ...options, handler: syncHandler(sync.clients) });
  route(app, 'syncItems', { ...options, handler: syncHandler(sync.items) });
  route(app, 'syncAllocations', { ...options, handler: syncHandler(links('allocations')) });
  route(app, 'syncLedgerAccess', { ...options, handler: syncHandler(links('ledger_access')) });
}
