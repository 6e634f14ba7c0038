// Answers decision questions: loads the facts, asks the policy, shapes the answer.
// Fails closed: a fact that cannot be loaded or a policy fault is an error, never an allow.
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { PolicyEngine, PolicyResult, Reason } from '../policy/engine.ts';
import type { FactStore } from './facts.ts';
import { clientListInput, PolicyInputBuilder, type DecideRequest } from './policy-input.ts';

export interface DecisionAnswer {
  decision_id: string;
  allow: boolean;
  reasons: Reason[];
  policy_revision: string;
}

export interface BatchItemError {
  allow: false;
  reasons: Reason[];
  error: { code: string; message: string };
}

export interface QueryAnswer {
  allowed: string[];
  denied?: Array<{ id: string; reasons: Reason[] }>;
  policy_revision: string;
}

const contextUnavailable = (cause: unknown) =>
  new AppError(503, 'context_unavailable', 'the facts for this decision could not be loaded (database unavailable)', { cause });

function hasPolicyError(result: PolicyResult): boolean {
  return result.reasons.some((r) => r.code === 'policy_error');
}

export class DecisionService {
  readonly #inputs: PolicyInputBuilder;
  readonly #facts: FactStore;
  readonly #engine: () => PolicyEngine | null;

  constructor(facts: FactStore, engine: () => PolicyEngine | null) {
    this.#facts = facts;
    this.#inputs = new PolicyInputBuilder(facts);
    this.#engine = engine;
  }

  #policy(): PolicyEngine {
    const engine = this.#engine();
    if (engine === null) throw new AppError(503, 'policy_error', 'no policy is loaded');
    return engine;
  }

  async decide(request: DecideRequest): Promise<DecisionAnswer> {
    const engine = this.#policy();
    let input;
    try {
      input = await this.#inputs.build(request);
    } catch (error) {
      throw contextUnavailable(error);
    }
    const result = engine.decide(input);
    if (hasPolicyError(result)) {
      throw new AppError(503, 'policy_error', result.reasons.map((r) => r.message).join('; '));
    }
    return { decision_id: randomUUID(), allow: result.allow, reasons: result.reasons, policy_revision: engine.revision };
  }

  /** Each request decided on its own; one that cannot be decided is a refusal carrying its error. */
  async decideBatch(requests: DecideRequest[]): Promise<Array<DecisionAnswer | BatchItemError>> {
    return Promise.all(
      requests.map(async (request) => {
        try {
          return await this.decide(request);
        } catch (error) {
          const { code, message } = error instanceof AppError ? error : { code: 'internal_error', message: 'internal error' };
          return { allow: false as const, reasons: [{ code, message }], error: { code, message } };
        }
      }),
    );
  }

  /**
   * The clients of the subject's account the subject may act on, judged by the policy in one
   * evaluation over all of them; the denied ones (with reasons) when asked.
   */
  async queryClients(subjectId: string, action: string, includeDenied: boolean): Promise<QueryAnswer> {
    const engine = this.#policy();
    let input;
    let ids: string[];
    try {
      const { user, subject, account } = await this.#inputs.subject(subjectId);
      const [clients, links] =
        user === null ? [[], null] : await Promise.all([this.#facts.accountClients(user.account_id), this.#inputs.links(user.id)]);
      ids = clients.map((c) => c.id);
      input = clientListInput(action, subject, account, clients, links);
    } catch (error) {
      throw contextUnavailable(error);
    }
    const results = ids.length === 0 ? [] : engine.decideClients(input);
    const allowed: string[] = [];
    const denied: Array<{ id: string; reasons: Reason[] }> = [];
    results.forEach((result, i) => {
      if (hasPolicyError(result)) throw new AppError(503, 'policy_error', result.reasons.map((r) => r.message).join('; '));
      const id = ids[i] as string;
      if (result.allow) allowed.push(id);
      else if (includeDenied) denied.push({ id, reasons: result.reasons });
    });
    return { allowed, ...(includeDenied ? { denied } : {}), policy_revision: engine.revision };
  }
}
