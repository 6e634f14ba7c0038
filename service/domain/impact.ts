// Impact analysis: the single decisions of the log replayed through a candidate revision, each on
// its logged input (the facts it was decided on included), and compared with the answer given:
// allow, and the list of reason codes. Rows are read newest first a page at a time (the next page
// is fetched while this one is evaluated), so memory stays flat however many are replayed; on
// PostgreSQL through one server-side cursor (cursor), on the embedded engine by keyset pages.
import type { Kysely } from 'kysely';
import { type ReplayFilter, type ReplayRow, scanReplayRows } from '../data/policy-revisions.ts';
import type { Database } from '../data/schema.ts';
import { codesOf, sameVerdict } from '../policy/answers.ts';
import type { Policy } from '../policy/engine.ts';
import { checkWindow } from './paging.ts';

export const IMPACT_LIMIT_MAX = 100_000;
const SAMPLES_PER_KIND = 20;
const PROGRESS_EVERY = 5000;

export interface ImpactQuery {
  since?: string;
  until?: string;
  subject_id?: string;
  action?: string;
  limit?: number;
}

type Kind = 'allow_to_deny' | 'deny_to_allow' | 'reasons_changed';

interface Counts {
  changed: number;
  allow_to_deny: number;
  deny_to_allow: number;
  reasons_changed: number;
}

interface Verdict {
  allow: boolean;
  reasons: string[];
}

export interface ImpactReport extends Counts {
  revision: string;
  replayed: number;
  unchanged: number;
  not_replayable: number;
  invalid_under_candidate: number;
  masked_replayed: number;
  by_action: Record<string, Counts>;
  samples: Array<{
    decision_id: string;
    decided_at: string;
    action: string | null;
    kind: Kind;
    before: Verdict;
    after: Verdict;
  }>;
  truncated: boolean;
}

export interface ImpactProgress {
  replayed: number;
  scanned: number;
}

const zero = (): Counts => ({ changed: 0, allow_to_deny: 0, deny_to_allow: 0, reasons_changed: 0 });

/**
 * Replays up to limit entries (newest first) through the candidate. onProgress hears how far it got
 * every few thousand entries; onReplayed counts each replayed entry (metrics).
 */
export function impactFilter(query: ImpactQuery): ReplayFilter & { limit: number } {
  const filter: ReplayFilter & { limit: number } = {
    limit: Math.min(query.limit ?? IMPACT_LIMIT_MAX, IMPACT_LIMIT_MAX),
  };
  if (query.since !== undefined) filter.since = new Date(query.since);
  if (query.until !== undefined) filter.until = new Date(query.until);
  if (query.subject_id !== undefined) filter.subjectId = query.subject_id;
  if (query.action !== undefined) filter.action = query.action;
  checkWindow(filter.since, filter.until);
  return filter;
}

export async function analyzeImpact(
  db: Kysely<Database>,
  candidate: Policy,
  filter: ReplayFilter & { limit: number },
  options: { cursor: boolean; signal?: AbortSignal },
  hooks: { onProgress?: (progress: ImpactProgress) => void; onReplayed?: (count: number) => void } = {},
): Promise<ImpactReport> {
  const { limit } = filter;

  const report: ImpactReport = {
    revision: candidate.revision,
    replayed: 0,
    unchanged: 0,
    ...zero(),
    not_replayable: 0,
    invalid_under_candidate: 0,
    masked_replayed: 0,
    by_action: {},
    samples: [],
    truncated: false,
  };
  // A Map: an action is text from the log ("__proto__" is a key like any other).
  const byAction = new Map<string, Counts>();
  const sampled: Record<Kind, number> = { allow_to_deny: 0, deny_to_allow: 0, reasons_changed: 0 };

  const replay = (row: ReplayRow) => {
    // Logged without input, or refused without a decision of the policy's (its error set: the
    // database down, the log unable to take it, a policy fault): there is no answer to compare.
    if (row.input === null || row.refused) {
      report.not_replayable += 1;
      return;
    }
    const result = candidate.decideJson(row.input);
    report.replayed += 1;
    if (row.masked) report.masked_replayed += 1;
    const after: Verdict = { allow: result.allow, reasons: codesOf(result) };
    if (after.reasons.includes('invalid_input') && !row.reason_codes.includes('invalid_input')) {
      report.invalid_under_candidate += 1;
      return;
    }
    const before: Verdict = { allow: row.allow === true, reasons: row.reason_codes };
    const kind: Kind | null =
      before.allow && !after.allow
        ? 'allow_to_deny'
        : !before.allow && after.allow
          ? 'deny_to_allow'
          : sameVerdict({ allow: before.allow, codes: before.reasons }, { allow: after.allow, codes: after.reasons })
            ? null
            : 'reasons_changed';
    if (kind === null) {
      report.unchanged += 1;
      return;
    }
    const action = row.action ?? '(none)';
    let counts = byAction.get(action);
    if (counts === undefined) {
      counts = zero();
      byAction.set(action, counts);
    }
    for (const tally of [report as Counts, counts]) {
      tally.changed += 1;
      tally[kind] += 1;
    }
    if (sampled[kind] < SAMPLES_PER_KIND) {
      sampled[kind] += 1;
      report.samples.push({
        decision_id: row.decision_id,
        decided_at: new Date(row.decided_at).toISOString(),
        action: row.action,
        kind,
        before,
        after,
      });
    }
  };

  let scanned = 0;
  let lastProgress = 0;
  const more = await scanReplayRows(db, filter, limit, options.cursor, (rows) => {
    // A caller gone (its connection closed) stops the replay at the next page.
    options.signal?.throwIfAborted();
    const before = report.replayed;
    for (const row of rows) replay(row);
    scanned += rows.length;
    hooks.onReplayed?.(report.replayed - before);
    if (scanned - lastProgress >= PROGRESS_EVERY) {
      lastProgress = scanned;
      hooks.onProgress?.({ replayed: report.replayed, scanned });
    }
  });
  report.by_action = Object.fromEntries(byAction);
  report.truncated = more;
  return report;
}
