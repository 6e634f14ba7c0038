// Reads the decision log for operators: filters, newest first, an opaque cursor for the next page,
// and each entry in the shape the API documents.
import type { Kysely } from 'kysely';
import { AppError, badRequest } from '../errors.ts';
import { findDecisionLogRow, listDecisionLogRows, type DecisionLogFilter } from '../data/decision-log.ts';
import type { Database, DecisionLogRow } from '../data/schema.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export interface DecisionLogView {
  decision_id: string;
  decided_at: string;
  endpoint: DecisionLogRow['endpoint'];
  batch_id: string | null;
  token_id: string | null;
  subject: { id: string };
  action: string;
  resource: { type: string; id?: string };
  allow: boolean | null;
  reason_codes: string[];
  input: unknown;
  /** An object: {allow, reasons} for a decision, {allowed, denied} for a list query (the writer stores no other). */
  result: Record<string, unknown>;
  masked: DecisionLogRow['masked'];
  error: DecisionLogRow['error'];
  policy_revision: string | null;
  eval_us: number | null;
  duration_us: number;
}

export function toView(row: DecisionLogRow): DecisionLogView {
  return {
    decision_id: row.decision_id,
    decided_at: new Date(row.decided_at).toISOString(),
    endpoint: row.endpoint,
    batch_id: row.batch_id,
    token_id: row.token_id,
    subject: { id: row.subject_id },
    action: row.action,
    resource: { type: row.resource_type, ...(row.resource_id === null ? {} : { id: row.resource_id }) },
    allow: row.allow,
    reason_codes: row.reason_codes,
    input: row.input,
    result: row.result as Record<string, unknown>,
    masked: row.masked,
    error: row.error,
    policy_revision: row.policy_revision,
    eval_us: row.eval_us,
    duration_us: row.duration_us,
  };
}

/** The position after an entry: its time and id. */
export const encodeDecisionCursor = (row: Pick<DecisionLogRow, 'decided_at' | 'decision_id'>) =>
  encodeCursor('decisions', [new Date(row.decided_at).toISOString(), row.decision_id]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isDecisionPosition = (position: unknown[]): position is [string, string] =>
  position.length === 2 &&
  typeof position[0] === 'string' &&
  !Number.isNaN(new Date(position[0]).getTime()) &&
  typeof position[1] === 'string' &&
  UUID.test(position[1]);

export function decodeDecisionCursor(cursor: string): NonNullable<DecisionLogFilter['before']> {
  const [at, id] = decodeCursor('decisions', cursor, isDecisionPosition);
  return { decidedAt: new Date(at), decisionId: id };
}

export type DecisionLogQuery = Omit<DecisionLogFilter, 'before'> & { cursor?: string };

async function unavailableWhenFailing<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw new AppError(503, 'database_unavailable', 'the decision log cannot be read: the database is unavailable', { cause: error });
  }
}

export async function listDecisions(
  db: Kysely<Database>,
  { cursor, ...filter }: DecisionLogQuery,
): Promise<{ decisions: DecisionLogView[]; next_cursor: string | null }> {
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw badRequest('invalid_request', 'since must be earlier than until', { field: 'since' });
  }
  const before = cursor === undefined ? {} : { before: decodeDecisionCursor(cursor) };
  const rows = await unavailableWhenFailing(listDecisionLogRows(db, { ...filter, ...before }));
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return { decisions: page.map(toView), next_cursor: rows.length > filter.limit && last !== undefined ? encodeDecisionCursor(last) : null };
}

export async function getDecision(db: Kysely<Database>, decisionId: string): Promise<DecisionLogView | null> {
  const row = await unavailableWhenFailing(findDecisionLogRow(db, decisionId));
  return row === undefined ? null : toView(row);
}
