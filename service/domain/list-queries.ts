// Lists judged by the policy in one evaluation each, logged as one entry holding every outcome:
// the clients a user may act on (queryClients), and the users who may act on one resource
// (querySubjects, "who has access"). Each listed outcome is what /v1/decide gives for that pair.
import { AppError, badRequest, notFound } from '../errors.ts';
import type { PolicyResult, Reason } from '../policy/answers.ts';
import { DECISIONS_ENTRYPOINT, RESOURCES_ENTRYPOINT, SUBJECTS_ENTRYPOINT } from '../policy/contracts.ts';
import type { Policy } from '../policy/engine.ts';
import {
  asRefusal,
  type CallContext,
  contextUnavailable,
  hasPolicyError,
  micros,
  newEntry,
  policyFault,
  type QueryAnswer,
  refused,
  requestRefusal,
  withDecisionId,
} from './decision-entries.ts';
import type { DecisionLogEntry } from './decision-log/index.ts';
import { DecisionPath } from './decision-path.ts';
import { ATTRIBUTE } from './spans.ts';
import type { Facts } from './facts.ts';
import { clientListInput, type DecideRequest, type PolicyInputBuilder, resourceListInput } from './policy-input.ts';

/** The resource of a reverse query: an id, or (for an action on a resource with none, user.create) its account. */
export interface SubjectQueryResource {
  type: string;
  id?: string;
  account_id?: string;
  attributes?: Record<string, unknown>;
}

export class ListQueries extends DecisionPath {
  /**
   * The clients of the subject's account the subject may act on, judged by the policy in one
   * evaluation over all of them; the denied ones (with reasons) when asked. Logged as one entry
   * holding every client's outcome.
   */
  async queryClients(
    subjectId: string,
    action: string,
    includeDenied: boolean,
    call: CallContext,
  ): Promise<QueryAnswer> {
    const entry = newEntry(call, null, { subjectId, action, resourceType: 'client', resourceId: null });
    return this.#listed(
      entry,
      call,
      { includeDenied, refuseAlike: false, entrypoint: DECISIONS_ENTRYPOINT },
      async ({ facts, inputs }) => {
        const { user, subject, account } = await inputs.subject(subjectId);
        const [clients, links] =
          user === null
            ? [[], null]
            : await Promise.all([facts.accountClients(user.account_id), inputs.links(user.id)]);
        const input = clientListInput(action, subject, account, clients, links);
        return { input, ids: clients.map((c) => c.id), decide: (engine) => engine.decideClients(input) };
      },
    );
  }

  /**
   * The items or the users of the subject's account the subject may act on, as queryClients lists
   * clients: each judged as /v1/decide would judge it (a user with no proposed values), in one
   * evaluation, logged as one entry.
   */
  async queryResources(
    subjectId: string,
    action: string,
    type: 'item' | 'user',
    includeDenied: boolean,
    call: CallContext,
  ): Promise<QueryAnswer> {
    const entry = newEntry(call, null, { subjectId, action, resourceType: type, resourceId: null });
    return this.#listed(
      entry,
      call,
      { includeDenied, refuseAlike: false, entrypoint: RESOURCES_ENTRYPOINT },
      async ({ facts, inputs }) => {
        const { user, subject, account } = await inputs.subject(subjectId);
        if (user === null) {
          const input = resourceListInput(action, subject, account, { type: 'user', users: [] }, null);
          return { input, ids: [], decide: () => [] };
        }
        const accountId = user.account_id;
        const listed =
          type === 'user'
            ? ({ type, users: await facts.accountUsers(accountId) } as const)
            : ({
                type,
                items: await facts.accountItems(accountId),
                clients: await facts.accountClients(accountId),
              } as const);
        // An item of a client is judged with the subject's links to that client.
        const links = type === 'item' ? await inputs.links(user.id) : null;
        const input = resourceListInput(action, subject, account, listed, links);
        const ids = input.resources.map((resource) => resource.id as string);
        return { input, ids, decide: (engine) => engine.decideResources(input) };
      },
    );
  }

  /**
   * The users of the resource's account who may do the action on it ("who has access"), each
   * judged as /v1/decide would judge that user; the denied ones with reasons when asked. One
   * evaluation over all of them, logged as one entry: endpoint subjects, no single subject, the
   * resource, and every user's outcome in the result.
   */
  async querySubjects(
    action: string,
    resource: SubjectQueryResource,
    includeDenied: boolean,
    call: CallContext,
  ): Promise<QueryAnswer> {
    const { type, id, attributes } = resource;
    const entry = newEntry(call, null, { subjectId: null, action, resourceType: type, resourceId: id ?? null });
    return this.#listed(
      entry,
      call,
      { includeDenied, refuseAlike: true, entrypoint: SUBJECTS_ENTRYPOINT },
      async ({ facts, inputs }) => {
        const accountId = await accountOf(facts, resource);
        const [account, users] = await Promise.all([facts.account(accountId), facts.accountUsers(accountId)]);
        if (account === null) throw notFound('account_not_found', `account "${accountId}" does not exist`);
        const asked: DecideRequest['resource'] = {
          type,
          ...(id === undefined ? {} : { id }),
          attributes: attributes ?? {},
        };
        const input = await inputs.subjectList(action, asked, account, users);
        return { input, ids: users.map((u) => u.id), decide: (engine) => engine.decideSubjects(input) };
      },
    );
  }

  /**
   * One list: its input and candidates made by list (a failure to load them is context_unavailable
   * unless it is a refusal of the request itself), decided in one evaluation, logged, answered.
   * With refuseAlike, a refusal of the request itself that every outcome carries is answered as
   * that refusal (400) rather than as a list of everyone refused for the same reason.
   */
  async #listed(
    entry: DecisionLogEntry,
    call: CallContext,
    options: { includeDenied: boolean; refuseAlike: boolean; entrypoint: string },
    list: (from: { facts: Facts; inputs: PolicyInputBuilder }) => Promise<{
      input: unknown;
      ids: string[];
      /** Decides the list with the engine the request started with (an activation meanwhile does not change it). */
      decide: (engine: Policy) => PolicyResult[];
    }>,
  ): Promise<QueryAnswer> {
    const started = performance.now();
    entry.allow = null;
    let answer: QueryAnswer;
    try {
      const engine = this.policy();
      entry.policyRevision = engine.revision;
      let listed: Awaited<ReturnType<typeof list>>;
      try {
        listed = await this.loadFacts(call, this.inputsFor(call), list);
      } catch (error) {
        throw error instanceof AppError ? error : contextUnavailable(error);
      }
      entry.input = listed.input;
      const evaluating = performance.now();
      const decide = listed.decide;
      const results =
        listed.ids.length === 0
          ? []
          : this.evaluate(call, engine, options.entrypoint, entry.decisionId, () => decide(engine));
      entry.evalUs = micros(evaluating);
      answer = outcomesOf(entry, listed.ids, results, options, engine.revision);
      entry.durationUs = micros(started);
      call.trace?.span.setAttributes({
        [ATTRIBUTE.decisionId]: entry.decisionId,
        [ATTRIBUTE.decisions]: results.length,
      });
    } catch (error) {
      const refusal = asRefusal(error);
      refused(entry, refusal, started);
      call.trace?.span.setAttributes({ [ATTRIBUTE.decisionId]: entry.decisionId, [ATTRIBUTE.refusal]: refusal.code });
      await this.finish(call, [entry], ['error'], started);
      throw withDecisionId(refusal, entry.decisionId);
    }
    // Outside the try: a log that cannot take the entry refuses the answer once (finish says why).
    await this.finish(call, [entry], ['list'], started);
    return answer;
  }
}

/** The account a reverse query's candidates come from: the resource's own (which must exist), or the one named. */
async function accountOf(facts: Facts, resource: SubjectQueryResource): Promise<string> {
  const { type, id } = resource;
  if (id === undefined) {
    if (resource.account_id === undefined) {
      throw badRequest('invalid_request', 'resource.account_id is required for a resource without an id', {
        field: 'resource.account_id',
      });
    }
    return resource.account_id;
  }
  const found =
    type === 'account'
      ? await facts.account(id)
      : type === 'client'
        ? await facts.client(id)
        : type === 'user'
          ? await facts.user(id)
          : await facts.item(id);
  if (found === null) throw notFound('resource_not_found', `${type} "${id}" does not exist`);
  return type === 'account' ? id : (found as { account_id: string }).account_id;
}

/**
 * Splits the outcomes into allowed ids and denied ids with reasons; the entry keeps every
 * outcome (denied ones with their codes: the messages are the policy revision's).
 */
function outcomesOf(
  entry: DecisionLogEntry,
  ids: string[],
  results: PolicyResult[],
  { includeDenied, refuseAlike }: { includeDenied: boolean; refuseAlike: boolean },
  revision: string,
): QueryAnswer {
  const allowed: string[] = [];
  const denied: Array<{ id: string; reasons: Reason[] }> = [];
  const codes = new Set<string>();
  results.forEach((result, i) => {
    if (hasPolicyError(result)) throw policyFault(result);
    const id = ids[i] as string;
    if (result.allow) allowed.push(id);
    else {
      denied.push({ id, reasons: result.reasons });
      for (const reason of result.reasons) codes.add(reason.code);
    }
  });
  entry.result = { allowed, denied: denied.map(({ id, reasons }) => ({ id, codes: reasons.map((r) => r.code) })) };
  entry.reasonCodes = [...codes].sort();
  const refusal = refuseAlike
    ? requestRefusal(results, (code) => (code === 'unknown_action' ? 'action' : 'resource'))
    : null;
  if (refusal !== null) throw refusal;
  return { decision_id: entry.decisionId, allowed, ...(includeDenied ? { denied } : {}), policy_revision: revision };
}
