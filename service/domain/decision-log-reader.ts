// Reads the decision log for operators: filters, newest first, an opaque cursor for the next page,
// and each entry in the shape the API documents.
import type { Kysely } from 'kysely';
import { AppError } from '../errors.ts';
import { findDecisionLogRow, listDecisionLogRows, type DecisionLogFilter } from '../data/decision-log.ts';
import type { Database, DecisionLogRow } from '../data/schema.ts';
import { checkWindow, isTimePosition, readPage, type Keyset, type PageQuery } from './paging.ts';
import { tokenNames } from '../data/tokens.ts';
import { ENV_TOKEN_ID, ENV_TOKEN_NAME } from './tokens.ts';

export interface DecisionLogView {
  decision_id: string;
  decided_at: string;
  endpoint: DecisionLogRow['endpoint'];
  batch_id: string | null;
  token_id: string | null;
  /** The asking token's name, so a logs token shows who asked without the admin scope. */
  token_name: string | null;
  subject: { id: string } | null;
  action: string | null;
  resource: { type: string; id?: string } | null;
  allow: boolean | null;
  reason_codes: string[];
  input: unknown;
  /** An object: {allow, reasons} for a decision, {allowed, denied} for a list query (the writer stores no other). */
  result: Record<string, unknown>;
  masked: DecisionLogRow['masked'];
  error: DecisionLogRow['error'];
  policy_revision: string | null;
  shadow: DecisionLogRow['shadow'];
  eval_us: number | null;
  duration_us: number;
}

/** The name of the token that asked, from names (tokenNames of the ids); null for none or one since deleted. */
export const tokenNameOf = (tokenId: string | null, names: ReadonlyMap<string, string>): string | null =>
  tokenId === null ? null : tokenId === ENV_TOKEN_ID ? ENV_TOKEN_NAME : (names.get(tokenId) ?? null);

export function toView(row: DecisionLogRow, names: ReadonlyMap<string, string>): DecisionLogView {
  return {
    decision_id: row.decision_id,
    decided_at: new Date(row.decided_at).toISOString(),
    endpoint: row.endpoint,
    batch_id: row.batch_id,
    token_id: row.token_id,
    token_name: tokenNameOf(row.token_id, names),
    subject: row.subject_id === null ? null : { id: row.subject_id },
    action: row.action,
    resource:
      row.resource_type === null
        ? null
        : { type: row.resource_type, ...(row.resource_id === null ? {} : { id: row.resource_id }) },
    allow: row.allow,
    reason_codes: row.reason_codes,
    input: row.input,
    result: row.result as Record<string, unknown>,
    masked: row.masked,
    error: row.error,
    policy_revision: row.policy_revision,
    shadow: row.shadow,
    eval_us: row.eval_us,
    duration_us: row.duration_us,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Newest first: the position after an entry is its time and id. */
const DECISION_PAGES: Keyset<DecisionLogRow, [string, string]> = {
  list: 'decisions',
  positionOf: (row) => [new Date(row.decided_at).toISOString(), row.decision_id],
  isPosition: (position) => isTimePosition(position, (id): id is string => typeof id === 'string' && UUID.test(id)),
};

export type DecisionLogQuery = Omit<DecisionLogFilter, 'before' | 'limit'> & PageQuery;

/** A read of the log that fails is the database's fault, whatever the error: 503 database_unavailable. */
export async function unavailableWhenFailing<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw new AppError(503, 'database_unavailable', 'the decision log cannot be read: the database is unavailable', {
      cause: error,
    });
  }
}

export async function listDecisions(
  db: Kysely<Database>,
  { cursor, limit, ...filter }: DecisionLogQuery,
): Promise<{ decisions: DecisionLogView[]; next_cursor: string | null }> {
  checkWindow(filter.since, filter.until);
  const { rows, next_cursor } = await readPage(DECISION_PAGES, { limit, cursor }, (after, rowLimit) =>
    unavailableWhenFailing(
      listDecisionLogRows(db, {
        ...filter,
        limit: rowLimit,
        ...(after === null ? {} : { before: { decidedAt: new Date(after[0]), decisionId: after[1] } }),
      }),
    ),
  );
  const names = await unavailableWhenFailing(namesOf(db, rows));
  return { decisions: rows.map((row) => toView(row, names)), next_cursor };
}

/** The names of the tokens that asked for these entries (one query a page). */
export function namesOf(
  db: Kysely<Database>,
  rows: ReadonlyArray<Pick<DecisionLogRow, 'token_id'>>,
): Promise<Map<string, string>> {
  const ids = new Set<string>();
  for (const row of rows) if (row.token_id !== null && row.token_id !== ENV_TOKEN_ID) ids.add(row.token_id);
  return tokenNames(db, [...ids]);
}

export async function getDecision(db: Kysely<Database>, decisionId: string): Promise<DecisionLogView | null> {
  const row = await unavailableWhenFailing(findDecisionLogRow(db, decisionId));
  return row === undefined ? null : toView(row, await unavailableWhenFailing(namesOf(db, [row])));
}
