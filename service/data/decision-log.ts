// Data access for the decision log: batched inserts, reads with keyset pagination, and the daily
// partitions that retention drops whole.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { insertStatements, refusedStatement, type Statement } from './decision-log-statements.ts';
import { scanDecisionLog, type ScanOptions } from './decision-log-scan.ts';
import type { Database, DecisionEndpoint, DecisionLogRow, NewDecisionLogRow } from './schema.ts';

/** Runs a statement of decision-log-statements.ts through Kysely. */
const run = (db: Kysely<Database>, { text, values }: Statement) => db.executeQuery(CompiledQuery.raw(text, values));

/**
 * Writes entries in one transaction (insertStatements: idempotent, an entry already present is
 * skipped).
 */
export async function insertDecisionLogRows(db: Kysely<Database>, rows: NewDecisionLogRow[]): Promise<void> {
  const statements = insertStatements(rows);
  if (statements.length === 0) return;
  if (statements.length === 1) await run(db, statements[0] as Statement);
  else
    await db.transaction().execute(async (trx) => {
      for (const statement of statements) await run(trx, statement);
    });
}

/** Records that entries written as answered were refused after all (their answer was never sent). */
export async function markDecisionLogRowsRefused(
  db: Kysely<Database>,
  keys: Array<{ decision_id: string; decided_at: Date | string }>,
  error: { code: string; message: string },
): Promise<void> {
  if (keys.length === 0) return;
  await run(db, refusedStatement(keys, error));
}

export async function findDecisionLogRow(
  db: Kysely<Database>,
  decisionId: string,
): Promise<DecisionLogRow | undefined> {
  return db.selectFrom('decision_log').selectAll().where('decision_id', '=', decisionId).executeTakeFirst();
}

/** What an operator narrows the log by (AND); since inclusive, until exclusive. */
export interface DecisionLogMatch {
  subjectId?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  allow?: boolean;
  policyRevision?: string;
  reasonCode?: string;
  endpoint?: DecisionEndpoint;
  batchId?: string;
  tokenId?: string;
  /** true: entries the shadow revision disagreed with; false: the others. */
  shadowDiffers?: boolean;
  since?: Date;
  until?: Date;
}

export interface DecisionLogFilter extends DecisionLogMatch {
  /** Entries strictly older than this position (newest first). */
  before?: { decidedAt: Date; decisionId: string };
  limit: number;
}

/** The entries matching every given filter, nothing selected yet. */
function matching(db: Kysely<Database>, filter: DecisionLogMatch) {
  let query = db.selectFrom('decision_log');
  if (filter.subjectId !== undefined) query = query.where('subject_id', '=', filter.subjectId);
  if (filter.action !== undefined) query = query.where('action', '=', filter.action);
  if (filter.resourceType !== undefined) query = query.where('resource_type', '=', filter.resourceType);
  if (filter.resourceId !== undefined) query = query.where('resource_id', '=', filter.resourceId);
  if (filter.allow !== undefined) query = query.where('allow', '=', filter.allow);
  if (filter.policyRevision !== undefined) query = query.where('policy_revision', '=', filter.policyRevision);
  if (filter.reasonCode !== undefined)
    query = query.where('reason_codes', '@>', sql<string[]>`array[${filter.reasonCode}]::text[]`);
  if (filter.endpoint !== undefined) query = query.where('endpoint', '=', filter.endpoint);
  if (filter.batchId !== undefined) query = query.where('batch_id', '=', filter.batchId);
  if (filter.tokenId !== undefined) query = query.where('token_id', '=', filter.tokenId);
  if (filter.shadowDiffers !== undefined) query = query.where('shadow', filter.shadowDiffers ? 'is not' : 'is', null);
  if (filter.since !== undefined) query = query.where('decided_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('decided_at', '<', filter.until);
  return query;
}

/** Entries matching every given filter, newest first, at most limit of them. */
export async function listDecisionLogRows(db: Kysely<Database>, filter: DecisionLogFilter): Promise<DecisionLogRow[]> {
  let query = matching(db, filter).selectAll();
  const before = filter.before;
  if (before !== undefined) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('decided_at', 'decision_id'),
        '<',
        eb.tuple(before.decidedAt, sql<string>`${before.decisionId}::uuid`),
      ),
    );
  }
  return query.orderBy('decided_at', 'desc').orderBy('decision_id', 'desc').limit(filter.limit).execute();
}

/** An entry without its input, result and masks: what a line of the CSV export shows. */
export type DecisionLogSummary = Omit<DecisionLogRow, 'input' | 'result' | 'masked'>;

const SUMMARY_COLUMNS = [
  'decision_id',
  'decided_at',
  'endpoint',
  'batch_id',
  'token_id',
  'subject_id',
  'action',
  'resource_type',
  'resource_id',
  'allow',
  'reason_codes',
  'error',
  'policy_revision',
  'shadow',
  'eval_us',
  'duration_us',
] as const satisfies ReadonlyArray<keyof DecisionLogSummary>;

/** Every entry matching the filter, whole, newest first, a page at a time (scanDecisionLog). */
export const scanDecisionLogRows = (db: Kysely<Database>, filter: DecisionLogMatch, options: ScanOptions) =>
  scanDecisionLog<DecisionLogRow>(db, matching(db, filter).selectAll(), options);

/** Every entry matching the filter without its input, result and masks, newest first, a page at a time. */
export const scanDecisionLogSummaries = (db: Kysely<Database>, filter: DecisionLogMatch, options: ScanOptions) =>
  scanDecisionLog<DecisionLogSummary>(db, matching(db, filter).select(SUMMARY_COLUMNS), options);

const PARTITION_PATTERN = /^decision_log_p(\d{4})(\d{2})(\d{2})$/;

const utcDay = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
const addDays = (date: Date, days: number) => new Date(date.getTime() + days * 86_400_000);
const partitionName = (day: Date) => `decision_log_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;

/** The daily partitions that exist, by their first day (UTC). */
export async function listDecisionLogPartitions(db: Kysely<Database>): Promise<Array<{ name: string; day: Date }>> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'decision_log'::regclass order by c.relname`.execute(db);
  return rows.flatMap(({ name }) => {
    const m = PARTITION_PATTERN.exec(name);
    return m === null ? [] : [{ name, day: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) }];
  });
}

export interface PartitionChanges {
  created: string[];
  dropped: string[];
  /** Days whose rows already sit in the default partition, so no partition can be made for them. */
  blocked: string[];
  /** Rows of the default partition older than the retention period, deleted. */
  purged: number;
}

/**
 * Creates the daily partitions from yesterday to daysAhead days from now and drops those wholly
 * older than retentionDays. One process at a time (an advisory lock), so replicas may all call it.
 */
export async function maintainDecisionLogPartitions(
  db: Kysely<Database>,
  { now, daysAhead, retentionDays }: { now: Date; daysAhead: number; retentionDays: number },
): Promise<PartitionChanges> {
  return db.transaction().execute(async (trx) => {
    const changes: PartitionChanges = { created: [], dropped: [], blocked: [], purged: 0 };
    const { rows } = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_xact_lock(hashtext('clearance.decision_log.partitions')) as locked`.execute(trx);
    if (rows[0]?.locked !== true) return changes;
    // Creating or dropping a partition takes decision_log's exclusive lock, which waits behind any
    // long reader (an export streaming to a slow client) while every insert and read then waits
    // behind it: give up after a moment instead, and try again at the next round.
    await sql`set local lock_timeout = '1s'`.execute(trx);
    const existing = new Set((await listDecisionLogPartitions(trx)).map((p) => p.name));
    const today = utcDay(now);
    for (let offset = -1; offset <= daysAhead; offset += 1) {
      const day = addDays(today, offset);
      const name = partitionName(day);
      if (existing.has(name)) continue;
      // Creating a partition over rows already in the default partition would fail (and abort
      // the transaction); such a day stays in the default partition.
      const stray = await trx
        .selectFrom('decision_log_default' as 'decision_log')
        .select('decision_id')
        .where('decided_at', '>=', day)
        .where('decided_at', '<', addDays(day, 1))
        .limit(1)
        .executeTakeFirst();
      if (stray !== undefined) {
        changes.blocked.push(name);
        continue;
      }
      await sql`create table ${sql.id(name)} partition of decision_log
                for values from (${sql.lit(day.toISOString())}) to (${sql.lit(addDays(day, 1).toISOString())})`.execute(
        trx,
      );
      changes.created.push(name);
    }
    const cutoff = addDays(today, -retentionDays);
    for (const partition of await listDecisionLogPartitions(trx)) {
      if (addDays(partition.day, 1) <= cutoff) {
        await sql`drop table ${sql.id(partition.name)}`.execute(trx);
        changes.dropped.push(partition.name);
      }
    }
    const purged = await trx.deleteFrom('decision_log').where('decided_at', '<', cutoff).executeTakeFirst();
    changes.purged = Number(purged.numDeletedRows);
    // A dropped partition fires no trigger: its statistics' tallies go with it here.
    for (const table of [
      'decision_log_minute_counts',
      'decision_log_minute_reasons',
      'decision_log_minute_times',
    ] as const) {
      await sql`delete from ${sql.table(table)} where minute < ${cutoff}`.execute(trx);
    }
    await sql`delete from decision_log_hour_times where hour < ${cutoff}`.execute(trx);
    return changes;
  });
}
