// Every change through the API runs here: one transaction that makes the change, records it in
// the audit trail and ends with a notification naming the transaction; then, once committed, what
// it touched is dropped from the caches of this process and of its fellow workers before the
// caller hears back, with a consistency token for the transaction (the database's change
// notifications reach other replicas, but later: the token lets their callers wait for it).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { insertAuditRows, pageAuditRows, type AuditDraft, type AuditFilter } from '../data/audit.ts';
import { notifyCommit } from '../data/facts.ts';
import type { AuditRow, Database } from '../data/schema.ts';
import { consistencyToken } from './consistency.ts';
import { checkWindow, isTimePosition, readPage, type Keyset, type PageQuery } from './paging.ts';
import { FACT_SEPARATOR, changeOf } from './fact-tables.ts';
import { COMMIT_PREFIX, FACTS_CHANNEL, type FactStore } from './facts.ts';

export type { AuditDraft } from '../data/audit.ts';

/** Who is making a change: the id of the token the request came with. */
export interface Actor {
  tokenId: string;
  /** Told the consistency token of the write once it is committed (and dropped from every worker's cache). */
  onCommit?: (consistencyToken: string) => void;
}

/** Above this many changed records the whole cache is dropped rather than entry by entry. */
const CLEAR_ALL_ABOVE = 1000;

export class AuditedWriter {
  readonly #db: Kysely<Database>;
  readonly #facts: FactStore;

  constructor(db: Kysely<Database>, facts: FactStore) {
    this.#db = db;
    this.#facts = facts;
  }

  /**
   * Runs work in one transaction; the records it pushes onto `changes` are written to the audit
   * trail in the same transaction, sharing one request id. Nothing is written when work throws.
   */
  async write<T>(actor: Actor, work: (trx: Kysely<Database>, changes: AuditDraft[]) => Promise<T>): Promise<T> {
    const requestId = randomUUID();
    const changes: AuditDraft[] = [];
    let committed: { result: T; transaction: string };
    try {
      committed = await this.#db.transaction().execute(async (trx) => {
        const result = await work(trx, changes);
        await insertAuditRows(trx, requestId, actor.tokenId, changes);
        // Last, so that it reaches every process after the changes its triggers told of.
        const transaction = await notifyCommit(trx, FACTS_CHANNEL, COMMIT_PREFIX, FACT_SEPARATOR);
        return { result, transaction };
      });
    } catch (error) {
      // Rolled back, where dropping is harmless, or lost at COMMIT, when it may have committed.
      // What the database refused reaches the error handler as it is (http/errors.ts maps it).
      await this.#dropChanged(changes);
      throw error;
    }
    // A decision sent after this reply must not be answered from a cache entry the change made
    // stale, whichever worker it reaches.
    await this.#dropChanged(changes);
    actor.onCommit?.(consistencyToken(committed.transaction));
    return committed.result;
  }

  /**
   * Records an event that changes no fact (an export of an access review) in the audit trail, on
   * its own: nothing is dropped from any cache and no consistency token is made.
   */
  async note(actor: Actor, event: AuditDraft): Promise<void> {
    await insertAuditRows(this.#db, randomUUID(), actor.tokenId, [event]);
  }

  #dropChanged(changes: readonly AuditDraft[]): Promise<void> {
    if (changes.length === 0) return Promise.resolve();
    if (changes.length > CLEAR_ALL_ABOVE) return this.#facts.changed(['*']);
    return this.#facts.changed([...new Set(changes.map(changeOf))]);
  }
}

export interface AuditEntry {
  id: number;
  at: string;
  request_id: string;
  token_id: string;
  account_id: string | null;
  record_type: AuditRow['record_type'];
  record_id: string;
  user_id: string | null;
  client_id: string | null;
  change: AuditRow['change'];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** Filters by column (AND), an RFC 3339 window (since inclusive, until exclusive) and a page. */
export interface AuditQuery extends PageQuery {
  account_id?: string;
  record_type?: AuditRow['record_type'];
  record_id?: string;
  user_id?: string;
  client_id?: string;
  token_id?: string;
  since?: string;
  until?: string;
}

const entry = (row: AuditRow): AuditEntry => ({
  id: Number(row.id),
  at: new Date(row.at).toISOString(),
  request_id: row.request_id,
  token_id: row.token_id,
  account_id: row.account_id,
  record_type: row.record_type,
  record_id: row.record_id,
  user_id: row.user_id,
  client_id: row.client_id,
  change: row.change,
  before: row.before,
  after: row.after,
});

/** Newest first: the position after an entry is its time and id. */
const AUDIT_PAGES: Keyset<AuditRow, [string, number]> = {
  list: 'audit',
  positionOf: (row) => [new Date(row.at).toISOString(), Number(row.id)],
  isPosition: (position) => isTimePosition(position, (id): id is number => Number.isSafeInteger(id)),
};

/** Reads the audit trail newest first, filtered, a page at a time. */
export async function listAudit(
  db: Kysely<Database>,
  query: AuditQuery,
): Promise<{ entries: AuditEntry[]; next_cursor: string | null }> {
  const { since, until } = query;
  const window: AuditFilter = {};
  if (query.account_id !== undefined) window.accountId = query.account_id;
  if (query.record_type !== undefined) window.recordType = query.record_type;
  if (query.record_id !== undefined) window.recordId = query.record_id;
  if (query.user_id !== undefined) window.userId = query.user_id;
  if (query.client_id !== undefined) window.clientId = query.client_id;
  if (query.token_id !== undefined) window.tokenId = query.token_id;
  if (since !== undefined) window.since = new Date(since);
  if (until !== undefined) window.until = new Date(until);
  checkWindow(window.since, window.until);
  const { rows, next_cursor } = await readPage(AUDIT_PAGES, query, (after, limit) =>
    pageAuditRows(db, window, limit, after === null ? null : { at: new Date(after[0]), id: after[1] }),
  );
  return { entries: rows.map(entry), next_cursor };
}
