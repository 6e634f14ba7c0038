// Policy revisions in the database: the stored bundles, the activation history (the active
// revision is the newest activation; each names the one it replaced) and the shadow revision.
// Activations and shadow changes are serialized by one advisory lock and announced on
// POLICY_CHANNEL in their transaction, so every process hears of them in commit order.
import { sql, type Kysely } from 'kysely';
import { scanDecisionLog } from './decision-log-scan.ts';
import type { Database, PolicyActivationRow, PolicyRevisionRow } from './schema.ts';

/** The channel every serving process listens on for activations and shadow changes. */
export const POLICY_CHANNEL = 'clearance_policy';

/** A revision without its bundle. */
export type RevisionMeta = Omit<PolicyRevisionRow, 'bundle'>;

const META = ['revision', 'contract', 'sources', 'size_bytes', 'signed', 'created_at', 'created_by'] as const;

export async function findRevision(db: Kysely<Database>, revision: string): Promise<RevisionMeta | undefined> {
  return db.selectFrom('policy_revisions').select(META).where('revision', '=', revision).executeTakeFirst();
}

export async function revisionBundle(db: Kysely<Database>, revision: string): Promise<Buffer | undefined> {
  const row = await db
    .selectFrom('policy_revisions')
    .select('bundle')
    .where('revision', '=', revision)
    .executeTakeFirst();
  return row?.bundle;
}

/**
 * Stores a revision unless one of its id exists; says whether it was new. Its time is taken here,
 * in milliseconds as a page cursor holds it (now() would keep microseconds, and two revisions
 * stored within one millisecond would fall between the pages).
 */
export async function insertRevision(
  db: Kysely<Database>,
  row: Omit<PolicyRevisionRow, 'created_at'>,
): Promise<{ created: boolean; meta: RevisionMeta }> {
  const inserted = await db
    .insertInto('policy_revisions')
    .values({ ...row, created_at: new Date() })
    .onConflict((oc) => oc.column('revision').doNothing())
    .returning(META)
    .executeTakeFirst();
  if (inserted !== undefined) return { created: true, meta: inserted };
  return { created: false, meta: (await findRevision(db, row.revision)) as RevisionMeta };
}

/** Replaces a stored bundle by the same bundle signed (its id leaves the signatures out). */
export async function storeSignedCopy(db: Kysely<Database>, revision: string, archive: Buffer): Promise<void> {
  await db
    .updateTable('policy_revisions')
    .set({ bundle: archive, size_bytes: archive.length, signed: true })
    .where('revision', '=', revision)
    .where('signed', '=', false)
    .execute();
}

/** Newest first; after a cursor, the revisions strictly older than (created_at, revision). */
export async function pageRevisions(
  db: Kysely<Database>,
  limit: number,
  olderThan: { at: Date; revision: string } | null,
): Promise<RevisionMeta[]> {
  return db
    .selectFrom('policy_revisions')
    .select(META)
    .$if(olderThan !== null, (q) =>
      q.where((eb) =>
        eb(eb.refTuple('created_at', 'revision'), '<', eb.tuple(olderThan?.at as Date, olderThan?.revision as string)),
      ),
    )
    .orderBy('created_at', 'desc')
    .orderBy('revision', 'desc')
    .limit(limit)
    .execute();
}

/** The active revision's activation: the newest. */
export async function currentActivation(db: Kysely<Database>): Promise<PolicyActivationRow | undefined> {
  return db.selectFrom('policy_activations').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

export async function activationAt(db: Kysely<Database>, seq: string): Promise<PolicyActivationRow | undefined> {
  return db.selectFrom('policy_activations').selectAll().where('seq', '=', seq).executeTakeFirst();
}

/** Newest first. */
export async function activationHistory(db: Kysely<Database>, limit: number): Promise<PolicyActivationRow[]> {
  return db.selectFrom('policy_activations').selectAll().orderBy('seq', 'desc').limit(limit).execute();
}

/** Serializes activations and shadow changes until the transaction ends. */
export async function lockPolicyChanges(trx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('clearance.policy_activations'))`.execute(trx);
}

export async function insertActivation(
  trx: Kysely<Database>,
  row: Pick<PolicyActivationRow, 'revision' | 'previous_seq' | 'change' | 'activated_by'>,
): Promise<PolicyActivationRow> {
  return trx.insertInto('policy_activations').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findShadow(
  db: Kysely<Database>,
): Promise<{ revision: string; set_at: Date; set_by: string } | undefined> {
  return db.selectFrom('policy_shadow').select(['revision', 'set_at', 'set_by']).executeTakeFirst();
}

export async function putShadow(trx: Kysely<Database>, revision: string, setBy: string): Promise<void> {
  await trx
    .insertInto('policy_shadow')
    .values({ singleton: true, revision, set_by: setBy })
    .onConflict((oc) => oc.column('singleton').doUpdateSet({ revision, set_by: setBy, set_at: sql`now()` }))
    .execute();
}

export async function deleteShadow(trx: Kysely<Database>): Promise<void> {
  await trx.deleteFrom('policy_shadow').execute();
}

/** Tells every process to read the active and shadow revisions again, once the transaction commits. */
export async function notifyPolicyChange(trx: Kysely<Database>, what: string): Promise<void> {
  await sql`select pg_notify(${POLICY_CHANNEL}, ${what})`.execute(trx);
}

/** One logged decision as impact analysis replays it: its answer then and its input as text. */
export interface ReplayRow {
  decision_id: string;
  decided_at: Date;
  action: string | null;
  allow: boolean | null;
  reason_codes: string[];
  input: string | null;
  masked: boolean;
  /** Refused without a decision of the policy's (error set): not replayed. */
  refused: boolean;
}

export interface ReplayFilter {
  since?: Date;
  until?: Date;
  subjectId?: string;
  action?: string;
}

const REPLAY_PAGE = 2000;

function replayQuery(db: Kysely<Database>, filter: ReplayFilter) {
  return db
    .selectFrom('decision_log')
    .select([
      'decision_id',
      'decided_at',
      'action',
      'allow',
      'reason_codes',
      sql<string | null>`input::text`.as('input'),
      sql<boolean>`jsonb_path_exists(masked, '$[*] ? (@.op != "escape")')`.as('masked'),
      sql<boolean>`error is not null`.as('refused'),
    ])
    .where('endpoint', 'in', ['decide', 'batch', 'opa'])
    .$if(filter.since !== undefined, (q) => q.where('decided_at', '>=', filter.since as Date))
    .$if(filter.until !== undefined, (q) => q.where('decided_at', '<', filter.until as Date))
    .$if(filter.subjectId !== undefined, (q) => q.where('subject_id', '=', filter.subjectId as string))
    .$if(filter.action !== undefined, (q) => q.where('action', '=', filter.action as string));
}

/**
 * Single decisions of the log (decide, batch items, the OPA API), newest first, up to limit, handed
 * to onPage a page at a time: the input as stored text (replayed without being parsed here), and
 * whether a mask changed it. Says whether more rows matched than limit. The next page is on its way
 * while onPage runs. cursor: one query read through a server-side cursor, else keyset pages
 * (scanDecisionLog).
 */
export async function scanReplayRows(
  db: Kysely<Database>,
  filter: ReplayFilter,
  limit: number,
  cursor: boolean,
  onPage: (rows: ReplayRow[]) => void,
): Promise<boolean> {
  let seen = 0;
  // One row more than limit is read: that row says more matched.
  for await (const rows of scanDecisionLog(db, replayQuery(db, filter), {
    cursor,
    pageSize: REPLAY_PAGE,
    limit: limit + 1,
  })) {
    const room = limit - seen;
    onPage(rows.length > room ? rows.slice(0, room) : rows);
    seen += Math.min(room, rows.length);
    if (rows.length > room) return true;
  }
  return false;
}
