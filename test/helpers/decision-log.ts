// Decision log entries and rows for tests, with whatever fields they need: an entry as the
// decision path hands it to the queue, a row for tests that write the table directly.
import { randomUUID } from 'node:crypto';
import type { NewDecisionLogRow } from '../../service/data/schema.ts';
import type { DecisionLog, DecisionLogEntry } from '../../service/domain/decision-log/index.ts';

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
