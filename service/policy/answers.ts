// What the policy answers, read into the service's shapes: a compact entry expanded to a
// decision with messages, a list's outcomes, a log mask. Malformed answers become policy_error.

export interface Reason {
  code: string;
  message: string;
}

export interface PolicyResult {
  allow: boolean;
  reasons: Reason[];
}

/** A client of a list, as clearance/decisions takes it: [id, account_id, ledger, allocated, ledger_access]. */
export type ClientTuple = [id: string, accountId: string, ledger: string, allocated: boolean, ledgerAccess: boolean];

/** The input of clearance/decisions: one action and subject, many clients of the subject's account. */
export interface ClientListInput {
  action: string;
  subject: object;
  account: object | null;
  clients: ClientTuple[];
}

/**
 * The input of clearance/subject_decisions: one action and resource, many subjects of the
 * resource's account, each with the facts of the resource that depend on it.
 */
export interface SubjectListInput {
  action: string;
  account: object | null;
  resource: Record<string, unknown>;
  subjects: Array<[subject: Record<string, unknown>, facts: Record<string, unknown>]>;
}

/** The input of clearance/resource_decisions: one action and subject, many resources of one type. */
export interface ResourceListInput {
  action: string;
  subject: object;
  account: object | null;
  resources: Array<Record<string, unknown>>;
}

/** What the log policy asks to hide in one log entry: a JSON pointer to remove, or a value to put in its place. */
export type LogMask = { op: 'remove'; path: string } | { op: 'upsert'; path: string; value: unknown };

export function toLogMask(value: unknown): LogMask | null {
  if (typeof value === 'string' && value.startsWith('/')) return { op: 'remove', path: value };
  if (typeof value !== 'object' || value === null) return null;
  const { op, path, value: replacement } = value as { op?: unknown; path?: unknown; value?: unknown };
  if (typeof path !== 'string' || !path.startsWith('/')) return null;
  if (op === 'remove') return { op, path };
  if (op === 'upsert' && 'value' in value) return { op, path, value: replacement };
  return null;
}

/**
 * Whether two answers agree as a replay or a shadow judges them: allow, and the list of reason
 * codes in order (messages are not compared).
 */
export function sameVerdict(
  a: { allow: boolean | null; codes: readonly string[] },
  b: { allow: boolean | null; codes: readonly string[] },
): boolean {
  return a.allow === b.allow && a.codes.length === b.codes.length && a.codes.every((code, i) => code === b.codes[i]);
}

/** The reason codes of an answer, in order. */
export const codesOf = (result: PolicyResult): string[] => result.reasons.map((reason) => reason.code);

export function policyError(message: string): PolicyResult {
  return { allow: false, reasons: [{ code: 'policy_error', message }] };
}

function isReason(value: unknown): value is Reason {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Reason).code === 'string' &&
    typeof (value as Reason).message === 'string'
  );
}

/**
 * Turns a decision in compact form (clearance/verdict, an outcome of clearance/decisions:
 * [allow, reason, ...], a reason being a code whose message is in the policy's messages
 * table, or a {code, message} object) into a result; anything else is a refusal. A code
 * missing from `messages` is its own message, as in clearance/decision.
 */
export function expandEntry(entry: unknown, messages: ReadonlyMap<string, string>): PolicyResult {
  if (!Array.isArray(entry) || typeof entry[0] !== 'boolean')
    return policyError('the policy returned a malformed decision');
  const expanded: Reason[] = [];
  for (let i = 1; i < entry.length; i++) {
    const reason: unknown = entry[i];
    if (typeof reason === 'string') {
      expanded.push({ code: reason, message: messages.get(reason) ?? reason });
    } else if (isReason(reason)) {
      expanded.push({ code: reason.code, message: reason.message });
    } else {
      return policyError('the policy returned a malformed decision');
    }
  }
  return { allow: entry[0], reasons: expanded };
}

/**
 * Turns the value of clearance/decisions ({"outcomes": [entry, ...], "clients": [index, ...]})
 * into one result per client; null when it is not that, for count clients. Clients with the
 * same decision share one frozen result.
 */
export function expandList(
  value: unknown,
  count: number,
  messages: ReadonlyMap<string, string>,
  listed: 'clients' | 'subjects' | 'resources' = 'clients',
): PolicyResult[] | null {
  if (typeof value !== 'object' || value === null) return null;
  const { outcomes, [listed]: clients } = value as { outcomes?: unknown } & Record<string, unknown>;
  if (!Array.isArray(outcomes) || !Array.isArray(clients) || clients.length !== count) return null;
  const results = outcomes.map((entry) => {
    const result = expandEntry(entry, messages);
    for (const reason of result.reasons) Object.freeze(reason);
    Object.freeze(result.reasons);
    return Object.freeze(result);
  });
  const list: PolicyResult[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const result = results[clients[i] as number];
    if (result === undefined) return null;
    list[i] = result;
  }
  return list;
}
