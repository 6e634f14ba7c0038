// Assembles the policy input of one decision from the facts: who the subject is, their account,
// the resource and the links between them. It decides nothing; the policy judges what it sees.
import type { AccountFact, ClientFact, ItemFact, UserFact } from '../data/facts.ts';
import type { ClientListInput, ClientTuple, ResourceListInput, SubjectListInput } from '../policy/answers.ts';
import type { Facts } from './facts.ts';
import type { Links } from './link-set.ts';

export interface DecideRequest {
  subject: { id: string };
  action: string;
  resource: { type: string; id?: string; attributes?: Record<string, unknown> };
}

export type PolicyInput = Record<string, unknown> & {
  action: string;
  subject: object;
  account: object | null;
  resource: object;
};

const permissionFacts = (user: UserFact) => ({
  add_clients: user.add_clients,
  practice_insights: user.practice_insights,
  manage_business: user.manage_business,
  create_expense_claims: user.create_expense_claims,
  publishing: user.publishing,
});

export function subjectFacts(id: string, user: UserFact | null): Record<string, unknown> {
  if (user === null) return { id, found: false };
  return {
    id,
    found: true,
    account_id: user.account_id,
    role: user.role,
    status: user.status,
    client_access_mode: user.client_access_mode,
    permissions: permissionFacts(user),
    xpm_staff_id: user.xpm_staff_id,
  };
}

export const accountFacts = (account: AccountFact | null) =>
  account === null ? null : { id: account.id, kind: account.kind, name: account.name };

/** The links between one user and the clients of their account. */
export interface ClientLinks {
  allocations: Links;
  ledgerAccess: Links;
}

export function clientFacts(client: Pick<ClientFact, 'id' | 'account_id' | 'ledger'>, links: ClientLinks | null) {
  return {
    id: client.id,
    account_id: client.account_id,
    ledger: client.ledger,
    allocated: links?.allocations.has(client.id) ?? false,
    ledger_access: links?.ledgerAccess.has(client.id) ?? false,
  };
}

/** A client as a list of clients gives it to the policy (clearance/decisions): the same facts, in a row. */
export function clientTuple(
  client: Pick<ClientFact, 'id' | 'account_id' | 'ledger'>,
  links: ClientLinks | null,
): ClientTuple {
  return [
    client.id,
    client.account_id,
    client.ledger,
    links?.allocations.has(client.id) ?? false,
    links?.ledgerAccess.has(client.id) ?? false,
  ];
}

type ResourceBase = { type: string; id?: string; attributes: Record<string, unknown> };

/** A user as a resource: the target's current values (a proposal equal to one of them is no change, SPEC §2.4a). */
function userResource(base: ResourceBase, target: UserFact): Record<string, unknown> {
  return {
    ...base,
    found: true,
    account_id: target.account_id,
    role: target.role,
    status: target.status,
    client_access_mode: target.client_access_mode,
    permissions: permissionFacts(target),
    xpm_staff_id: target.xpm_staff_id,
  };
}

/** An item as a resource; an item of a client carries the client's facts, relative to the subject. */
function itemResource(
  base: ResourceBase,
  item: ItemFact,
  client: Pick<ClientFact, 'id' | 'account_id' | 'ledger'> | null,
  links: ClientLinks | null,
): Record<string, unknown> {
  return {
    ...base,
    found: true,
    account_id: item.account_id,
    client_id: item.client_id,
    owner_user_id: item.owner_user_id,
    kind: item.kind,
    ...(client === null ? {} : { client: clientFacts(client, links) }),
  };
}

/**
 * The policy input deciding every item or every user of the subject's account (as /v1/decide
 * would see each, with no proposed values): items with their clients' facts relative to the subject.
 */
export function resourceListInput(
  action: string,
  subject: Record<string, unknown>,
  account: object | null,
  listed:
    | { type: 'user'; users: readonly UserFact[] }
    | {
        type: 'item';
        items: readonly ItemFact[];
        clients: ReadonlyArray<Pick<ClientFact, 'id' | 'account_id' | 'ledger'>>;
      },
  links: ClientLinks | null,
): ResourceListInput {
  const base = (id: string): ResourceBase => ({ type: listed.type, id, attributes: {} });
  if (listed.type === 'user') {
    return { action, subject, account, resources: listed.users.map((user) => userResource(base(user.id), user)) };
  }
  const clients = new Map(listed.clients.map((client) => [client.id, client]));
  const resources = listed.items.map((item) =>
    itemResource(base(item.id), item, item.client_id === null ? null : (clients.get(item.client_id) ?? null), links),
  );
  return { action, subject, account, resources };
}

/** The policy input deciding many clients for one subject and action. */
export function clientListInput(
  action: string,
  subject: Record<string, unknown>,
  account: object | null,
  clients: ReadonlyArray<Pick<ClientFact, 'id' | 'account_id' | 'ledger'>>,
  links: ClientLinks | null,
): ClientListInput {
  return { action, subject, account, clients: clients.map((client) => clientTuple(client, links)) };
}

/** Whether a fact is the same for one subject as for all: values by identity, objects by their JSON. */
const sameFact = (a: unknown, b: unknown) =>
  a === b || (typeof a === 'object' && a !== null && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));

export class PolicyInputBuilder {
  readonly #facts: Facts;

  constructor(facts: Facts) {
    this.#facts = facts;
  }

  async links(userId: string): Promise<ClientLinks> {
    const [allocations, ledgerAccess] = await Promise.all([
      this.#facts.allocations(userId),
      this.#facts.ledgerAccess(userId),
    ]);
    return { allocations, ledgerAccess };
  }

  /** The subject and their account, shared by every resource of a batch or list query. */
  async subject(
    id: string,
  ): Promise<{ user: UserFact | null; subject: Record<string, unknown>; account: ReturnType<typeof accountFacts> }> {
    const user = await this.#facts.user(id);
    const account = user === null ? null : await this.#facts.account(user.account_id);
    return { user, subject: subjectFacts(id, user), account: accountFacts(account) };
  }

  async resource(request: DecideRequest['resource'], subject: UserFact | null): Promise<Record<string, unknown>> {
    const base = {
      type: request.type,
      ...(request.id === undefined ? {} : { id: request.id }),
      attributes: request.attributes ?? {},
    };
    if (request.id === undefined) return base;
    const subjectLinks = () => (subject === null ? Promise.resolve(null) : this.links(subject.id));
    switch (request.type) {
      case 'client': {
        const [client, links] = await Promise.all([this.#facts.client(request.id), subjectLinks()]);
        return client === null
          ? { ...base, found: false }
          : { ...base, found: true, ...clientFacts(client, links), id: request.id };
      }
      case 'account': {
        const account = await this.#facts.account(request.id);
        return account === null
          ? { ...base, found: false }
          : { ...base, found: true, account_id: account.id, kind: account.kind };
      }
      case 'user': {
        const target = await this.#facts.user(request.id);
        if (target === null) return { ...base, found: false };
        const facts = userResource(base, target);
        const clientId = base.attributes.client_id;
        if (typeof clientId === 'string') {
          // The target's ledger access greys the client out; the subject's own access to it bounds
          // what a sub admin may allocate (grant_exceeds_own_access). One round trip for all three.
          const [client, targetLedger, grantor] = await Promise.all([
            this.#facts.client(clientId),
            this.#facts.ledgerAccess(target.id),
            subjectLinks(),
          ]);
          facts.attribute_client =
            client === null
              ? { id: clientId, found: false }
              : {
                  id: clientId,
                  found: true,
                  account_id: client.account_id,
                  ledger: client.ledger,
                  ledger_access: targetLedger.has(clientId),
                  subject_allocated: grantor?.allocations.has(clientId) ?? false,
                  subject_ledger_access: grantor?.ledgerAccess.has(clientId) ?? false,
                };
        }
        return facts;
      }
      case 'item': {
        const item = await this.#facts.item(request.id);
        if (item === null) return { ...base, found: false };
        if (item.client_id === null) return itemResource(base, item, null, null);
        const [client, links] = await Promise.all([this.#facts.client(item.client_id), subjectLinks()]);
        return itemResource(base, item, client, links);
      }
      default:
        return { ...base, found: false };
    }
  }

  /**
   * The policy input deciding many users for one action on one resource of their account: the
   * resource's facts once, and for each user their facts and the resource's facts that differ
   * for them (a client's allocated and ledger_access, an item's client, the client being allocated).
   */
  async subjectList(
    action: string,
    request: DecideRequest['resource'],
    account: AccountFact,
    users: readonly UserFact[],
  ): Promise<SubjectListInput> {
    const resource = await this.resource(request, null);
    const subjects = await Promise.all(
      users.map(async (user): Promise<[Record<string, unknown>, Record<string, unknown>]> => {
        const own = await this.resource(request, user);
        const facts: Record<string, unknown> = {};
        for (const key in own) if (!sameFact(own[key], resource[key])) facts[key] = own[key];
        return [subjectFacts(user.id, user), facts];
      }),
    );
    return { action, account: accountFacts(account), resource, subjects };
  }

  async build(request: DecideRequest): Promise<PolicyInput> {
    const { user, subject, account } = await this.subject(request.subject.id);
    const resource = await this.resource(request.resource, user);
    return { action: request.action, subject, account, resource };
  }
}
