// The records API (the facts API of SPEC §3): accounts, users, clients, items, allocations and
// ledger access, one record at a time or in bulk. One transaction per request, so a refusal
// changes nothing. Knows nothing of HTTP: callers get records, outcomes and AppErrors.
import type { Kysely } from 'kysely';
import type { Database } from '../../data/schema.ts';
import type { AuditedWriter } from '../audit.ts';
import { accountRecords } from './accounts.ts';
import { clientRecords } from './clients.ts';
import { itemRecords } from './items.ts';
import { linkRecords } from './links.ts';
import { bulkSync } from './sync.ts';
import { userRecords } from './users.ts';

export function recordService(db: Kysely<Database>, writer: AuditedWriter) {
  const store = { db, writer };
  return {
    accounts: accountRecords(store),
    users: userRecords(store),
    clients: clientRecords(store),
    items: itemRecords(store),
    links: linkRecords(store),
    sync: bulkSync(store),
  };
}

export type RecordService = ReturnType<typeof recordService>;
