// A decision log row for tests that write the table directly, with whatever fields they need.
import { randomUUID } from 'node:crypto';
import type { NewDecisionLogRow } from '../../service/data/schema.ts';

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
