// One logged decision decided again: its logged input (the facts it was decided on included)
// through the active revision or a stored one, compared with the answer it got (allow and the
// list of reason codes). A check, not a decision: nothing is logged.
import type { Kysely } from 'kysely';
import { findDecisionLogRow } from '../data/decision-log.ts';
import type { Database } from '../data/schema.ts';
import { notFound } from '../errors.ts';
import { codesOf, type Reason, sameVerdict } from '../policy/answers.ts';
import type { Policy } from '../policy/engine.ts';

export interface ReplayView {
  decision_id: string;
  replayable: boolean;
  why: 'list_entry' | 'logged_without_input' | 'refused' | null;
  revision: string | null;
  masked: string[];
  before: { allow: boolean | null; reasons: string[]; policy_revision: string | null };
  after: { allow: boolean; reasons: Reason[] } | null;
  differs: boolean | null;
}

/** The replay of one entry; which engine answers is the caller's (the active one, or a named revision). */
export async function replayDecision(
  db: Kysely<Database>,
  decisionId: string,
  engine: () => Promise<Policy>,
): Promise<ReplayView> {
  const row = await findDecisionLogRow(db, decisionId);
  if (row === undefined) {
    throw notFound('decision_not_found', `no decision log entry ${decisionId} (it may not be written yet)`);
  }
  const view: ReplayView = {
    decision_id: row.decision_id,
    replayable: false,
    why: null,
    revision: null,
    masked: row.masked.filter((mask) => mask.op !== 'escape').map((mask) => mask.path),
    before: { allow: row.allow, reasons: row.reason_codes, policy_revision: row.policy_revision },
    after: null,
    differs: null,
  };
  // A list's entry holds every listed outcome: asking the list again is its replay.
  if (row.endpoint === 'query' || row.endpoint === 'subjects') return { ...view, why: 'list_entry' };
  if (row.input === null) return { ...view, why: 'logged_without_input' };
  // Refused without an answer of the policy's (the database, the log, a policy fault): nothing to compare.
  if (row.error !== null) return { ...view, why: 'refused' };
  const policy = await engine();
  const result = policy.decideJson(JSON.stringify(row.input));
  const same = sameVerdict(
    { allow: result.allow, codes: codesOf(result) },
    { allow: row.allow, codes: row.reason_codes },
  );
  return {
    ...view,
    replayable: true,
    revision: policy.revision,
    after: { allow: result.allow, reasons: result.reasons },
    differs: !same,
  };
}
