// Decision log entries and rows for tests, with whatever fields they need: an entry as the
// decision path hands it to the queue, a row for tests that write the table directly, and a
// deterministic spread of rows with the filters an operator reads them by.
import { randomUUID } from 'node:crypto';
import type { DecisionLogRow, NewDecisionLogRow } from '../../service/data/schema.ts';
import type { DecisionLog, DecisionLogEntry } from '../../service/domain/decision-log/index.ts';

export const DAY_MS = 86_400_000;

/** The decision log's partition of the UTC day of at, as the service names them. */
export const partitionOf = (at: Date) => `decision_log_p${at.toISOString().slice(0, 10).replaceAll('-', '')}`;

/** An answered decision whose input holds an account name the default masks remove. */
export const logEntry = (overrides: Partial<DecisionLogEntry> = {}): DecisionLogEntry => ({
  decisionId: randomUUID(),
  decidedAt: new Date(),
  endpoint: 'decide',
  batchId: null,
  tokenId: 'tok',
  subjectId: 'u1',
  action: 'client.view',
  resourceType: 'client',
  resourceId: 'c1',
  input: { subject: { id: 'u1' }, account: { id: 'a1', name: 'Secret Ltd' } },
  result: { allow: true, reasons: [] },
  allow: true,
  reasonCodes: [],
  error: null,
  policyRevision: 'rev',
  shadow: null,
  evalUs: 3,
  durationUs: 30,
  ...overrides,
});

/** What a write sees when the database connection is lost (retried, never a refused row). */
export const connectionLost = (): Error => Object.assign(new Error('connection terminated'), { code: 'ECONNRESET' });

export const logRow = (overrides: Partial<NewDecisionLogRow> = {}): NewDecisionLogRow => ({
  decision_id: randomUUID(),
  decided_at: new Date(),
  endpoint: 'decide',
  batch_id: null,
  token_id: null,
  subject_id: 'u1',
  action: 'client.view',
  resource_type: 'client',
  resource_id: null,
  allow: true,
  reason_codes: [],
  input: null,
  result: '{}',
  masked: '[]',
  error: null,
  policy_revision: null,
  eval_us: null,
  duration_us: 1,
  ...overrides,
});

/** Stops the log as the app does, with a deadline ms from now, and closes it. */
export async function stopWithin(log: DecisionLog, ms: number): Promise<void> {
  log.stop(Date.now() + ms);
  await log.close();
}

export type SpreadRow = Pick<
  DecisionLogRow,
  | 'decision_id'
  | 'endpoint'
  | 'batch_id'
  | 'subject_id'
  | 'action'
  | 'resource_type'
  | 'resource_id'
  | 'allow'
  | 'reason_codes'
  | 'shadow'
> & { decided_at: Date; token_id: string; policy_revision: string };

/**
 * A deterministic spread of count rows over five days before now, several sharing a millisecond:
 * every endpoint (list queries with allow null), two tokens, three subjects, a batch, two
 * revisions, and a shadow disagreement on every seventh.
 */
export function spreadRows(count: number): SpreadRow[] {
  // mulberry32
  let seed = 7;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const batch = randomUUID();
  const base = Date.now() - 5 * DAY_MS;
  return Array.from({ length: count }, (_, i) => {
    const endpoint = pick(['decide', 'batch', 'query', 'opa'] as const);
    const allow = endpoint === 'query' ? null : pick([true, false]);
    return {
      decision_id: randomUUID(),
      decided_at: new Date(base + Math.floor(i / 3) * 3_600_000),
      endpoint,
      batch_id: endpoint === 'batch' ? batch : null,
      token_id: pick(['tok-a', 'tok-b']),
      subject_id: pick(['ada', 'cal', 'sam']),
      action: endpoint === 'query' ? 'client.view' : pick(['client.view', 'item.edit', 'user.update']),
      resource_type: pick(['client', 'item']),
      resource_id: endpoint === 'query' ? null : pick(['c1', 'c2', 'i1']),
      allow,
      reason_codes:
        allow === true
          ? ['top_admin']
          : pick([['client_not_allocated'], ['client_not_allocated', 'ledger_access_required'], ['not_owner']]),
      policy_revision: pick(['rev1', 'rev2']),
      shadow: allow !== null && i % 7 === 0 ? { revision: 'rev3', allow: !allow, reasons: [] } : null,
    };
  });
}

export const asInsert = (row: SpreadRow): NewDecisionLogRow => ({
  ...row,
  input: JSON.stringify({ action: row.action }),
  result: JSON.stringify({ allow: row.allow, reasons: row.reason_codes.map((code) => ({ code, message: code })) }),
  masked: '[]',
  error: null,
  shadow: row.shadow === null ? null : JSON.stringify(row.shadow),
  eval_us: 5,
  duration_us: 50,
});

/** The order of the log: newest first, the id breaking ties. */
export const newestFirst = (a: SpreadRow, b: SpreadRow) =>
  b.decided_at.getTime() - a.decided_at.getTime() ||
  (a.decision_id < b.decision_id ? 1 : a.decision_id > b.decision_id ? -1 : 0);

/** Each filter of the decision log (as a query string) with the rows of spreadRows it keeps. */
export function filterCases(rows: readonly SpreadRow[]): Array<[string, (r: SpreadRow) => boolean]> {
  const since = new Date(Date.now() - 3 * DAY_MS);
  const until = new Date(Date.now() - 1 * DAY_MS);
  return [
    ['', () => true],
    ['subject_id=sam', (r) => r.subject_id === 'sam'],
    ['action=item.edit', (r) => r.action === 'item.edit'],
    ['resource_type=item', (r) => r.resource_type === 'item'],
    ['resource_id=c2', (r) => r.resource_id === 'c2'],
    ['allow=true', (r) => r.allow === true],
    ['allow=false', (r) => r.allow === false],
    ['reason_code=ledger_access_required', (r) => r.reason_codes.includes('ledger_access_required')],
    ['policy_revision=rev2', (r) => r.policy_revision === 'rev2'],
    ['endpoint=query', (r) => r.endpoint === 'query'],
    [`batch_id=${rows.find((r) => r.batch_id !== null)?.batch_id}`, (r) => r.batch_id !== null],
    ['token_id=tok-b', (r) => r.token_id === 'tok-b'],
    ['shadow_differs=true', (r) => r.shadow !== null],
    ['shadow_differs=false', (r) => r.shadow === null],
    [`since=${since.toISOString()}`, (r) => r.decided_at >= since],
    [`until=${until.toISOString()}`, (r) => r.decided_at < until],
    [
      `subject_id=cal&allow=false&reason_code=client_not_allocated&since=${since.toISOString()}&until=${until.toISOString()}`,
      (r) =>
        r.subject_id === 'cal' &&
        r.allow === false &&
        r.reason_codes.includes('client_not_allocated') &&
        r.decided_at >= since &&
        r.decided_at < until,
    ],
  ];
}
