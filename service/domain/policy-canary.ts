// The canary a policy bundle must pass before it is stored: decisions over a small made-up practice
// and business, assembled by the same input builder as real requests, through every entrypoint the
// service calls. A candidate that answers policy_error (or malformed lists, or masks) is refused.
// These evaluations are checks, not decisions: nothing here is logged.
import type { Account, Client, Item, User } from '../data/schema.ts';
import type { Policy } from '../policy/engine.ts';
import { codesOf, type PolicyResult, sameVerdict } from '../policy/answers.ts';
import type { Facts } from './fact-tables.ts';
import {
  clientListInput,
  PolicyInputBuilder,
  resourceListInput,
  subjectFacts,
  type DecideRequest,
} from './policy-input.ts';

const at = new Date(0);

const account = (id: string, kind: Account['kind']): Account => ({
  id,
  name: id,
  kind,
  created_at: at,
  updated_at: at,
});

const user = (
  id: string,
  accountId: string,
  kind: Account['kind'],
  role: User['role'],
  extra: Partial<User> = {},
): User => ({
  id,
  account_id: accountId,
  account_kind: kind,
  name: id,
  role,
  status: 'active',
  client_access_mode: null,
  add_clients: false,
  practice_insights: false,
  manage_business: false,
  create_expense_claims: false,
  publishing: 'none',
  xpm_staff_id: null,
  created_at: at,
  updated_at: at,
  ...extra,
});

const client = (id: string, ledger: Client['ledger']): Client => ({
  id,
  account_id: 'canary-practice',
  account_kind: 'practice',
  name: id,
  ledger,
  created_at: at,
  updated_at: at,
});

const item = (id: string, accountId: string, clientId: string | null, owner: string, kind: Item['kind']): Item => ({
  id,
  account_id: accountId,
  client_id: clientId,
  owner_user_id: owner,
  kind,
  created_at: at,
  updated_at: at,
});

const ACCOUNTS = [account('canary-practice', 'practice'), account('canary-business', 'business')];
const USERS = [
  user('c-admin', 'canary-practice', 'practice', 'practice_admin', { xpm_staff_id: 'x1' }),
  user('c-sub', 'canary-practice', 'practice', 'client_admin', {
    client_access_mode: 'ledger_selected',
    manage_business: true,
  }),
  user('c-std', 'canary-practice', 'practice', 'standard', {
    publishing: 'expense_claims_only',
    create_expense_claims: true,
  }),
  user('c-old', 'canary-practice', 'practice', 'expense_approver', { status: 'suspended' }),
  user('b-admin', 'canary-business', 'business', 'business_admin'),
  user('b-std', 'canary-business', 'business', 'standard', { publishing: 'all' }),
];
const CLIENTS = [client('k-xero', 'xero'), client('k-myob', 'myob')];
const ITEMS = [
  item('i-claim', 'canary-practice', null, 'c-std', 'expense_claim'),
  item('i-client', 'canary-practice', 'k-xero', 'c-sub', 'invoice'),
  item('i-business', 'canary-business', null, 'b-std', 'receipt'),
];
const ALLOCATIONS: Record<string, string[]> = { 'c-sub': ['k-xero'], 'c-std': ['k-myob'] };
const LEDGER_ACCESS: Record<string, string[]> = { 'c-sub': ['k-xero'] };

const byId = <T extends { id: string }>(rows: readonly T[]) => new Map(rows.map((row) => [row.id, row]));
const users = byId(USERS);
const accounts = byId(ACCOUNTS);
const clients = byId(CLIENTS);
const items = byId(ITEMS);

const FACTS: Facts = {
  user: async (id) => users.get(id) ?? null,
  account: async (id) => accounts.get(id) ?? null,
  client: async (id) => clients.get(id) ?? null,
  item: async (id) => items.get(id) ?? null,
  allocations: async (id) => new Set(ALLOCATIONS[id] ?? []),
  ledgerAccess: async (id) => new Set(LEDGER_ACCESS[id] ?? []),
  token: async () => null,
  accountClients: async (id) => CLIENTS.filter((c) => c.account_id === id),
  accountUsers: async (id) => USERS.filter((u) => u.account_id === id),
  accountItems: async (id) => ITEMS.filter((i) => i.account_id === id),
};

const RESOURCES: Array<[string, DecideRequest['resource']]> = [
  ['client.view', { type: 'client', id: 'k-xero' }],
  ['time.push', { type: 'client', id: 'k-myob' }],
  ['subscription.manage', { type: 'account', id: 'canary-practice' }],
  ['settings.edit', { type: 'account', id: 'canary-business' }],
  ['expense_claim.create', { type: 'account', id: 'canary-practice' }],
  ['user.view', { type: 'user', id: 'c-std' }],
  ['user.update', { type: 'user', id: 'c-std', attributes: { role: 'client_admin', client_access_mode: 'all' } }],
  ['user.client_access.edit', { type: 'user', id: 'c-std', attributes: { client_id: 'k-xero' } }],
  ['user.create', { type: 'user', attributes: { role: 'standard' } }],
  ['item.publish', { type: 'item', id: 'i-claim' }],
  ['item.view', { type: 'item', id: 'i-client' }],
  ['expense_claim.approve', { type: 'item', id: 'i-business' }],
  ['client.view', { type: 'client', id: 'no-such-client' }],
  ['no.such.action', { type: 'client', id: 'k-xero' }],
];

/** What failed in a candidate's canary, or null when it passed. */
export async function runCanary(engine: Policy): Promise<string | null> {
  const builder = new PolicyInputBuilder(FACTS);
  const failed = (what: string, results: readonly PolicyResult[]) => {
    const bad = results.find((r) => r.reasons.some((reason) => reason.code === 'policy_error'));
    return bad === undefined ? null : `${what}: ${bad.reasons.map((r) => r.message).join('; ')}`;
  };
  for (const subject of USERS) {
    for (const [action, resource] of RESOURCES) {
      const input = await builder.build({ subject: { id: subject.id }, action, resource });
      const what = `the decision of ${subject.id} on ${action} ${resource.id ?? ''}`.trim();
      const decided = engine.decide(input);
      const logged = engine.decideLogged(input, 'decide');
      const problem = failed(what, [decided]) ?? failed(`${what} with its log masks`, [logged.result]);
      if (problem !== null) return problem;
      // /v1/decide answers from the one call: it must give what decide gives.
      const verdictOf = (r: PolicyResult) => ({ allow: r.allow, codes: codesOf(r) });
      if (!sameVerdict(verdictOf(logged.result), verdictOf(decided)))
        return `${what}: clearance/logged_verdict and clearance/verdict disagree`;
      try {
        engine.logMasks({ endpoint: 'decide', input, result: { allow: false, reasons: [] } });
      } catch (error) {
        return `the decision log masks: ${(error as Error).message}`;
      }
    }
    const { subject: facts, account: own } = await builder.subject(subject.id);
    const ownClients = CLIENTS.filter((c) => c.account_id === subject.account_id);
    const links = await builder.links(subject.id);
    const lists = [
      failed('a list of clients', engine.decideClients(clientListInput('client.view', facts, own, ownClients, links))),
      failed(
        'a list of users',
        engine.decideResources(
          resourceListInput(
            'user.suspend',
            facts,
            own,
            { type: 'user', users: USERS.filter((u) => u.account_id === subject.account_id) },
            links,
          ),
        ),
      ),
      failed(
        'a list of items',
        engine.decideResources(
          resourceListInput(
            'item.view',
            facts,
            own,
            { type: 'item', items: ITEMS.filter((i) => i.account_id === subject.account_id), clients: ownClients },
            links,
          ),
        ),
      ),
    ];
    const problem = lists.find((p) => p !== null);
    if (problem !== undefined && problem !== null) return problem;
  }
  const practice = accounts.get('canary-practice') as Account;
  const practiceUsers = USERS.filter((u) => u.account_id === practice.id);
  const subjects = await builder.subjectList('client.view', { type: 'client', id: 'k-xero' }, practice, practiceUsers);
  const problem = failed('a list of who has access', engine.decideSubjects(subjects));
  if (problem !== null) return problem;
  const none = engine.decide(undefined);
  if (none.allow) return 'the decision without input allows';
  if (engine.decide({ ...subjectFacts('x', null) }).allow) return 'a malformed input is allowed';
  // Deny is the default: what no rule can allow must be refused (a policy that allows all fails here).
  const refusals: Array<[string, DecideRequest]> = [
    [
      'an unknown action',
      { subject: { id: 'c-admin' }, action: 'no.such.action', resource: { type: 'client', id: 'k-xero' } },
    ],
    [
      'an unknown client',
      { subject: { id: 'c-admin' }, action: 'client.view', resource: { type: 'client', id: 'no-such-client' } },
    ],
    [
      'an unknown subject',
      { subject: { id: 'nobody' }, action: 'client.view', resource: { type: 'client', id: 'k-xero' } },
    ],
    [
      'a suspended user',
      { subject: { id: 'c-old' }, action: 'client.view', resource: { type: 'client', id: 'k-myob' } },
    ],
    [
      'another account',
      { subject: { id: 'b-admin' }, action: 'client.view', resource: { type: 'client', id: 'k-myob' } },
    ],
  ];
  for (const [what, request] of refusals) {
    if (engine.decide(await builder.build(request)).allow) return `${what} is allowed`;
  }
  return null;
}
