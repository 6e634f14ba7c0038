// The audit trail table: rows written in the same transaction as the change they describe, and
// read newest first with a keyset on (at, id).
import { sql, type Kysely } from 'kysely';
import type { AuditLogTable, AuditRecordType, AuditRow, Database } from './schema.ts';

/** One changed record, as the domain describes it; the time, request and token are added on insert. */
export type AuditDraft = Omit<AuditLogTable, 'id' | 'at' | 'request_id' | 'token_id' | 'before' | 'after'> & {
  before: object | null;
  after: object | null;
};

// Bounds one statement's parameter arrays for a large cascade (an account with 100,000 pairs).
const CHUNK = 5000;

export async function insertAuditRows(
  db: Kysely<Database>,
  requestId: string,
  tokenId: string,
  rows: readonly AuditDraft[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const column = <K extends keyof AuditDraft>(key: K) => chunk.map((r) => r[key]);
    const json = (key: 'before' | 'after') => chunk.map((r) => (r[key] === null ? null : JSON.stringify(r[key])));
    await db
      .insertInto('audit_log')
      .columns([
        'request_id',
        'token_id',
        'account_id',
        'record_type',
        'record_id',
        'user_id',
        'client_id',
        'change',
        'before',
        'after',
      ])
      .expression(
        sql`select ${requestId}::uuid, ${tokenId}, t.account_id, t.record_type, t.record_id, t.user_id, t.client_id, t.change,
                   t.before::jsonb, t.after::jsonb
            from unnest(${column('account_id')}::text[], ${column('record_type')}::text[], ${column('record_id')}::text[],
                        ${column('user_id')}::text[], ${column('client_id')}::text[], ${column('change')}::text[],
                        ${json('before')}::text[], ${json('after')}::text[])
                 with ordinality as t(account_id, record_type, record_id, user_id, client_id, change, before, after, n)
            order by t.n`,
      )
      .execute();
  }
}

export interface AuditFilter {
  accountId?: string;
  recordType?: AuditRecordType;
  recordId?: string;
  userId?: string;
  clientId?: string;
  tokenId?: string;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
}

/** Newest first; after a cursor, the rows strictly older than (at, id). */
export function pageAuditRows(
  db: Kysely<Database>,
  filter: AuditFilter,
  limit: number,
  olderThan: { at: Date; id: number } | null,
): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .$if(filter.accountId !== undefined, (q) => q.where('account_id', '=', filter.accountId as string))
    .$if(filter.recordType !== undefined, (q) => q.where('record_type', '=', filter.recordType as AuditRecordType))
    .$if(filter.recordId !== undefined, (q) => q.where('record_id', '=', filter.recordId as string))
    .$if(filter.userId !== undefined, (q) => q.where('user_id', '=', filter.userId as string))
    .$if(filter.clientId !== undefined, (q) => q.where('client_id', '=', filter.clientId as string))
    .$if(filter.tokenId !== undefined, (q) => q.where('token_id', '=', filter.tokenId as string))
    .$if(filter.since !== undefined, (q) => q.where('at', '>=', filter.since as Date))
    .$if(filter.until !== undefined, (q) => q.where('at', '<', filter.until as Date))
    .$if(olderThan !== null, (q) =>
      q.where((eb) => eb(eb.refTuple('at', 'id'), '<', eb.tuple(olderThan?.at as Date, olderThan?.id as number))),
    )
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
