// Decision log rows: an entry as the decision path hands it over, turned into the row the database
// stores (masked by the log policy, made storable), and the rows that say what became of it: refused
// after the decision, or kept without its input when it cannot be stored as it is.
import type { DecisionEndpoint, MaskApplied, NewDecisionLogRow, ShadowVerdict } from '../../data/schema.ts';
import type { LogMask } from '../../policy/answers.ts';
import { applyLogMasks, type LoggedParts } from '../log-masks.ts';
import { storableJson, storableJsonText, storableText } from '../storable.ts';

export type DecisionLogMode = 'buffered' | 'durable' | 'off';

/** One answer, as the decision path hands it over. */
export interface DecisionLogEntry {
  decisionId: string;
  decidedAt: Date;
  endpoint: DecisionEndpoint;
  batchId: string | null;
  tokenId: string | null;
  /** null (as action and resourceType) when the answer is about no request (an OPA call without input). */
  subjectId: string | null;
  action: string | null;
  resourceType: string | null;
  resourceId: string | null;
  /** The full policy input; null when it could not be assembled. */
  input: unknown;
  /** The input as JSON text, where the policy was given it so (stored without encoding it again). */
  inputJson?: string;
  /** The masks of the entry, where the policy gave them with the decision; else the log asks for them. */
  masks?: LogMask[];
  result: unknown;
  /** null for a list query. */
  allow: boolean | null;
  reasonCodes: string[];
  error: { code: string; message: string } | null;
  policyRevision: string | null;
  /** The shadow revision's answer, where it disagreed with the one given; else null. */
  shadow: ShadowVerdict | null;
  evalUs: number | null;
  durationUs: number;
}

/** Why an answer was refused after its decision (the code and message it was refused with). */
export interface Refusal {
  code: string;
  message: string;
}

export interface LogLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The masks for one entry, by the log policy of the revision that decided it; throws when they
 * cannot be known (then the input is not kept).
 */
export type MaskSource = (entry: LoggedParts & { endpoint: DecisionEndpoint }, revision: string | null) => LogMask[];

/** The refusal of a durable answer whose entry was not committed in time. */
export const NOT_LOGGED_IN_TIME = 'decision_log_unavailable';

/** The row of an entry whose answer was refused after the decision: the policy's result is kept. */
export const refusedRow = (row: NewDecisionLogRow, refusal: Refusal): NewDecisionLogRow => ({
  ...row,
  allow: false,
  reason_codes: [refusal.code],
  error: JSON.stringify(refusal),
});

/** The refusal a row records when its answer was refused after the decision (refusedRow), else null. */
export function refusalOf(row: NewDecisionLogRow): Refusal | null {
  if (typeof row.error !== 'string' || row.allow !== false) return null;
  const error = JSON.parse(row.error) as { code?: unknown; message?: unknown } | null;
  if (error?.code !== NOT_LOGGED_IN_TIME || typeof error.message !== 'string') return null;
  return { code: error.code, message: error.message };
}

/** Text columns of a row kept without its input are cut to this (the API's own ids are at most 128). */
const UNSTORABLE_TEXT_MAX = 256;
const cut = (text: string | null | undefined) =>
  text == null || text.length <= UNSTORABLE_TEXT_MAX ? (text ?? null) : `${text.slice(0, UNSTORABLE_TEXT_MAX)}…`;

/**
 * The one fallback for a row that cannot be kept as it is (its entry cannot be serialized, or the
 * database refused it): the verdict stays, saying why the rest is missing. Its text is cut short
 * too (an index refuses text over a few kilobytes), so that it is storable whatever made the
 * original not.
 */
export const withoutInput = (row: NewDecisionLogRow, error: Error): NewDecisionLogRow => ({
  ...row,
  token_id: cut(row.token_id),
  subject_id: cut(row.subject_id),
  action: cut(row.action),
  resource_type: cut(row.resource_type),
  resource_id: cut(row.resource_id),
  policy_revision: cut(row.policy_revision),
  input: null,
  result: JSON.stringify({ allow: row.allow, reason_codes: row.reason_codes }),
  masked: JSON.stringify([{ op: 'remove', path: '/input' }] satisfies MaskApplied[]),
  error: JSON.stringify({ code: 'log_entry_unstorable', message: cut(error.message) }),
});

/**
 * What the mask policy is shown. A list's input holds a row per listed client, resource or
 * subject and its result an id per one (a megabyte for 10,000 clients); the policy sees the rest
 * (action, subject or resource, account) and its masks apply to the whole entry.
 */
function maskView(endpoint: DecisionEndpoint, parts: LoggedParts): LoggedParts {
  const isList = endpoint === 'query' || endpoint === 'subjects';
  if (!isList || typeof parts.input !== 'object' || parts.input === null) return parts;
  const { clients: _c, resources: _r, subjects: _s, ...input } = parts.input as Record<string, unknown>;
  return { input, result: {} };
}

/** The input removed whole: what an entry whose masks are unknown keeps (nothing that was not vetted). */
const WITHOUT_INPUT: LogMask[] = [{ op: 'remove', path: '/input' }];

/**
 * The entry's masks: those the policy gave with the decision, else asked of the mask source (by
 * the revision that decided it); when they cannot be known, the input is removed, said in the log.
 */
function masksOf(entry: DecisionLogEntry, masks: MaskSource, log: LogLogger): LogMask[] {
  if (entry.masks !== undefined) return entry.masks;
  try {
    const view = maskView(entry.endpoint, { input: entry.input, result: entry.result });
    return masks({ endpoint: entry.endpoint, ...view }, entry.policyRevision);
  } catch (error) {
    log.error({ err: error, decisionId: entry.decisionId }, 'decision log: masks unavailable; input not logged');
    return WITHOUT_INPUT;
  }
}

/**
 * An entry as it crosses to the thread that writes the log (data/decision-log-thread.ts): its
 * input as JSON text and its masks known, so that thread needs no policy. What it costs here is
 * asking for the masks where the decision did not give them; the encoding and the write are there.
 */
export interface EncodedEntry extends Omit<DecisionLogEntry, 'input' | 'inputJson' | 'masks'> {
  inputJson: string | null;
  masks: LogMask[];
}

/**
 * The entry encoded for the writer thread; null when it cannot be (its input has no JSON text
 * yet, as a list's: its row is then built on this thread, as without a writer thread).
 */
export function encodedEntry(entry: DecisionLogEntry, masks: MaskSource, log: LogLogger): EncodedEntry | null {
  if (entry.input !== null && entry.inputJson === undefined) return null;
  const { input, inputJson, masks: _given, ...rest } = entry;
  return { ...rest, inputJson: input === null ? null : (inputJson as string), masks: masksOf(entry, masks, log) };
}

/** The row of an encoded entry, as entryRow makes it of the entry. */
export function decodedRow(encoded: EncodedEntry, log: LogLogger): NewDecisionLogRow {
  const { inputJson, masks, ...rest } = encoded;
  const bare: DecisionLogEntry = { ...rest, input: null, masks };
  let input: unknown = null;
  try {
    input = inputJson === null ? null : JSON.parse(inputJson);
  } catch (error) {
    // Never so from the engine's own JSON.stringify; a row must come of it all the same.
    return withoutInput(
      entryRow(bare, () => masks, log),
      error as Error,
    );
  }
  const entry = input === null ? bare : { ...rest, input, inputJson: inputJson as string, masks };
  return entryRow(entry, () => masks, log);
}

/** The entry's row. Never throws: an entry that cannot be serialized is kept without its input, saying why. */
export function entryRow(entry: DecisionLogEntry, masks: MaskSource, log: LogLogger): NewDecisionLogRow {
  try {
    return maskedRow(entry, masks, log);
  } catch (error) {
    log.error(
      { err: error, decisionId: entry.decisionId },
      'decision log: entry could not be serialized; keeping it without its input',
    );
    return withoutInput(maskedRow({ ...entry, input: null, result: null }, masks, log), error as Error);
  }
}

/** The input as stored: the text the policy was given where no mask changed it, else encoded again. */
function storedInput(entry: DecisionLogEntry, input: unknown, escaped: string[]): string | null {
  if (input === null || input === undefined) return null;
  if (input === entry.input && entry.inputJson !== undefined)
    return storableJsonText(entry.inputJson, input, '/input', escaped);
  return storableJson(input, '/input', escaped);
}

/** The entry's row, masked and storable: NULs made visible, each place named in masked. */
function maskedRow(entry: DecisionLogEntry, masks: MaskSource, log: LogLogger): NewDecisionLogRow {
  let parts: LoggedParts = { input: entry.input, result: entry.result };
  let applied: MaskApplied[] = [];
  if (entry.input !== null) ({ parts, applied } = applyLogMasks(parts, masksOf(entry, masks, log)));
  const escaped: string[] = [];
  const text = (value: string | null, pointer: string) =>
    value === null ? null : storableText(value, pointer, escaped);
  // A removed key may hold a NUL in its name: its pointer is stored made visible, and named so.
  const masked = applied.map((mask) => {
    const path = storableText(mask.path, '', []);
    if (path !== mask.path) escaped.push(path);
    return { op: mask.op, path };
  });
  const row: NewDecisionLogRow = {
    decision_id: entry.decisionId,
    decided_at: entry.decidedAt,
    endpoint: entry.endpoint,
    batch_id: entry.batchId,
    token_id: text(entry.tokenId, '/token_id'),
    subject_id: text(entry.subjectId, '/subject/id'),
    action: text(entry.action, '/action'),
    resource_type: text(entry.resourceType, '/resource/type'),
    resource_id: text(entry.resourceId, '/resource/id'),
    allow: entry.allow,
    reason_codes: entry.reasonCodes,
    input: storedInput(entry, parts.input, escaped),
    result: storableJson(parts.result, '/result', escaped),
    masked: '',
    error: entry.error === null ? null : storableJson(entry.error, '/error', escaped),
    policy_revision: text(entry.policyRevision, '/policy_revision'),
    shadow: entry.shadow === null ? null : storableJson(entry.shadow, '/shadow', escaped),
    eval_us: entry.evalUs,
    duration_us: entry.durationUs,
  };
  row.masked = JSON.stringify([...masked, ...escaped.map((path): MaskApplied => ({ op: 'escape', path }))]);
  return row;
}
