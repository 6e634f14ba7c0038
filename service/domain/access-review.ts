// The access review: every user's access to every client of an account for one action, with the
// reason, as CSV or NDJSON, for a practice's auditors. Each user's clients are judged by the policy
// as the list query judges them (one evaluation per user), all by the one policy revision loaded
// when the review is taken; rows are made a user at a time, so memory does not grow with the rows.
import { notFound } from '../errors.ts';
import { csvField } from './csv.ts';
import type { Policy } from '../policy/engine.ts';
import type { PolicyResult } from '../policy/answers.ts';
import { reviewedClients, type ReviewedClient } from '../data/access-review.ts';
import type { AccountFact, UserFact } from '../data/facts.ts';
import type { Database } from '../data/schema.ts';
import type { Kysely } from 'kysely';
import type { Actor, AuditedWriter } from './audit.ts';
import { hasPolicyError, policyFault, requestRefusal } from './decision-entries.ts';
import type { DecisionLog } from './decision-log/index.ts';
import { DecisionPath } from './decision-path.ts';
import type { FactStore } from './facts.ts';
import type { Metrics } from './metrics.ts';
import { accountFacts, clientListInput, type PolicyInputBuilder, subjectFacts } from './policy-input.ts';

export type ReviewFormat = 'csv' | 'ndjson';

export interface AccessReview {
  /** The policy revision that judged every row. */
  revision: string;
  takenAt: Date;
  /** The body, a user's rows at a time (the CSV's header line first). */
  chunks: AsyncGenerator<string>;
}

export const REVIEW_COLUMNS = [
  'user_id',
  'user_name',
  'role',
  'client_access_mode',
  'client_id',
  'client_name',
  'ledger',
  'allowed',
  'reason_codes',
] as const;

/** How each row is written, by format: a user's part, a client's part, an outcome's part, joined. */
const WRITERS = {
  csv: {
    header: `${REVIEW_COLUMNS.join(',')}\r\n`,
    user: (u: UserFact) => [u.id, u.name, u.role, u.client_access_mode ?? ''].map(csvField).join(','),
    client: (c: ReviewedClient) => [c.id, c.name, c.ledger].map(csvField).join(','),
    outcome: (r: PolicyResult) => `${r.allow},${csvField(r.reasons.map((x) => x.code).join(';'))}`,
    row: (user: string, client: string, outcome: string) => `${user},${client},${outcome}\r\n`,
  },
  ndjson: {
    header: '',
    user: (u: UserFact) =>
      JSON.stringify({
        user_id: u.id,
        user_name: u.name,
        role: u.role,
        client_access_mode: u.client_access_mode,
      }).slice(1, -1),
    client: (c: ReviewedClient) =>
      JSON.stringify({ client_id: c.id, client_name: c.name, ledger: c.ledger }).slice(1, -1),
    outcome: (r: PolicyResult) =>
      JSON.stringify({ allowed: r.allow, reason_codes: r.reasons.map((x) => x.code) }).slice(1, -1),
    row: (user: string, client: string, outcome: string) => `{${user},${client},${outcome}}\n`,
  },
} as const;

export class AccessReviews extends DecisionPath {
  readonly #db: Kysely<Database>;
  readonly #writer: AuditedWriter;

  constructor(
    facts: FactStore,
    engine: () => Policy | null,
    log: DecisionLog,
    metrics: Metrics,
    db: Kysely<Database>,
    writer: AuditedWriter,
  ) {
    super(facts, engine, log, metrics);
    this.#db = db;
    this.#writer = writer;
  }

  /**
   * Takes the review: checks the account and the action (the first user's rows are judged before
   * anything is answered, so a refusal of the request is still an error), records the export in
   * the audit trail, and returns the body to stream.
   */
  async take(accountId: string, action: string, format: ReviewFormat, actor: Actor): Promise<AccessReview> {
    const engine = this.policy();
    const { facts, inputs } = this.inputsFor({ tokenId: actor.tokenId, endpoint: 'query' });
    const account = await facts.account(accountId);
    if (account === null) throw notFound('account_not_found', `account "${accountId}" does not exist`);
    const reviewed: AccountFact = account;
    const [users, clients] = await Promise.all([facts.accountUsers(accountId), reviewedClients(this.#db, accountId)]);
    const takenAt = new Date();
    const writer = WRITERS[format];
    const clientParts = clients.map(writer.client);
    const rowsOf = (user: UserFact, results: PolicyResult[]): string => {
      const userPart = writer.user(user);
      const outcomes = new Map<PolicyResult, string>();
      let text = '';
      results.forEach((result, i) => {
        let outcome = outcomes.get(result);
        if (outcome === undefined) {
          outcome = writer.outcome(result);
          outcomes.set(result, outcome);
        }
        text += writer.row(userPart, clientParts[i] as string, outcome);
      });
      return text;
    };
    const [firstUser, ...others] = clients.length === 0 ? [] : users;
    const firstResults =
      firstUser === undefined ? [] : await judged(engine, inputs, action, account, firstUser, clients);
    // A refusal of the request itself (an unknown action, say) is answered as that error.
    const refusal = requestRefusal(firstResults, () => 'action');
    if (refusal !== null) throw refusal;
    await this.#writer.note(actor, {
      account_id: accountId,
      record_type: 'access_review',
      record_id: accountId,
      user_id: null,
      client_id: null,
      change: 'export',
      before: null,
      after: {
        action,
        format,
        policy_revision: engine.revision,
        taken_at: takenAt.toISOString(),
        users: users.length,
        clients: clients.length,
      },
    });
    async function* chunks(): AsyncGenerator<string> {
      yield writer.header + (firstUser === undefined ? '' : rowsOf(firstUser, firstResults));
      for (const user of others) yield rowsOf(user, await judged(engine, inputs, action, reviewed, user, clients));
    }
    return { revision: engine.revision, takenAt, chunks: chunks() };
  }
}

/**
 * One user's clients, judged by the policy in one evaluation on the user's facts as the review
 * lists them (its snapshot of the account's users) and their links as they stand; a policy fault
 * is a refusal.
 */
async function judged(
  engine: Policy,
  inputs: PolicyInputBuilder,
  action: string,
  account: AccountFact,
  user: UserFact,
  clients: readonly ReviewedClient[],
): Promise<PolicyResult[]> {
  const links = await inputs.links(user.id);
  const input = clientListInput(action, subjectFacts(user.id, user), accountFacts(account), clients, links);
  const results = engine.decideClients(input);
  const fault = results.find(hasPolicyError);
  if (fault !== undefined) throw policyFault(fault);
  return results;
}
