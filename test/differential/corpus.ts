// The differential corpus: policy inputs in the shape the service's loader produces
// (service/domain/policy-input.ts), generated deterministically. Each area crosses its main
// axes fully; secondary facts (other permissions, statuses, ids) come from a seeded PRNG,
// so every run sees exactly the same inputs.
import { clone, isJsonObject, Prng, type Json, type JsonObject } from './json.ts';

export interface Entry {
  /** The part of the corpus it belongs to (clients, users, malformed, …): one test each. */
  area: string;
  /** A short description of the case, printed with a mismatch. */
  label: string;
  input: Json;
}

export type Kind = 'practice' | 'business';
export type ResourceType = 'client' | 'account' | 'user' | 'item';
type Mode = 'all' | 'selected' | 'ledger_all' | 'ledger_selected' | null;
type Ledger = 'xero' | 'myob' | 'quickbooks' | 'none';
type ItemKind = 'expense_claim' | 'receipt' | 'invoice';
type Publishing = 'all' | 'expense_claims_only' | 'none' | null;

export const SEED = 0x5eed_c1ea;

const KINDS: readonly Kind[] = ['practice', 'business'];
export const ROLES: Record<Kind, readonly string[]> = {
  practice: ['practice_admin', 'client_admin', 'standard', 'expense_approver'],
  business: ['business_admin', 'user_admin', 'standard', 'expense_approver'],
};
const MODES: readonly Mode[] = ['all', 'selected', 'ledger_all', 'ledger_selected', null];
const LEDGERS: readonly Ledger[] = ['xero', 'myob', 'quickbooks', 'none'];
const ITEM_KINDS: readonly ItemKind[] = ['expense_claim', 'receipt', 'invoice'];
const PUBLISHING: readonly Publishing[] = ['all', 'expense_claims_only', 'none', null];
const BOOLS: readonly boolean[] = [false, true];

/** The action catalogue (SPEC §2) with the resource type each action takes. */
export const ACTIONS: Record<string, ResourceType> = {
  'client.view': 'client',
  'client.access': 'client',
  'client.edit': 'client',
  'client.console.view': 'client',
  'xbert.assign': 'client',
  'task.assign': 'client',
  'time.push': 'client',
  'settings.view': 'account',
  'settings.edit': 'account',
  'processes.manage': 'account',
  'automation.manage': 'account',
  'users.list': 'account',
  'subscription.manage': 'account',
  'client.create': 'account',
  'insights.view': 'account',
  'expense_claim.create': 'account',
  'user.view': 'user',
  'user.profile.edit': 'user',
  'user.create': 'user',
  'user.update': 'user',
  'user.suspend': 'user',
  'user.enable': 'user',
  'user.remove': 'user',
  'user.client_access.edit': 'user',
  'user.xpm_link.edit': 'user',
  'item.view': 'item',
  'item.edit': 'item',
  'item.publish': 'item',
  'expense_claim.approve': 'item',
};
const ACTION_NAMES = Object.keys(ACTIONS);
const actionsOf = (type: ResourceType) => ACTION_NAMES.filter((action) => ACTIONS[action] === type);
const RESOURCE_TYPES: readonly ResourceType[] = ['client', 'account', 'user', 'item'];
const UNKNOWN_ACTIONS = ['client.delete', '', 'CLIENT.VIEW', 'user.view ', 'item', 'decision'];

/** Proposed roles in attributes.role: none, null, every role of both kinds, and one that exists nowhere. */
const PROPOSALS: readonly (string | null | undefined)[] = [
  undefined,
  null,
  'practice_admin',
  'client_admin',
  'standard',
  'expense_approver',
  'business_admin',
  'user_admin',
  'owner',
];

// ---- facts ---------------------------------------------------------------------------------

const ACCOUNT_IDS: Record<Kind, string> = { practice: 'acc-practice-1', business: 'acc-business-1' };
const OTHER_ACCOUNT_IDS: Record<Kind, string> = { practice: 'acc-practice-2', business: 'acc-business-2' };
const ACCOUNT_NAMES: Record<Kind, string> = { practice: 'Harbour & Co Chartered', business: 'Kiwi Bakery Ltd' };

function account(kind: Kind): JsonObject {
  return { id: ACCOUNT_IDS[kind], kind, name: ACCOUNT_NAMES[kind] };
}

interface Permissions {
  add_clients?: boolean | null;
  practice_insights?: boolean | null;
  manage_business?: boolean | null;
  create_expense_claims?: boolean | null;
  publishing?: Publishing;
}

interface SubjectSpec {
  kind: Kind;
  role: string;
  id?: string;
  status?: 'active' | 'suspended';
  mode?: Mode;
  permissions?: Permissions | null;
  xpm?: string | null;
}

function permissionsJson(permissions: Permissions): JsonObject {
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(permissions)) if (value !== undefined) out[name] = value;
  return out;
}

function subject(spec: SubjectSpec): JsonObject {
  return {
    id: spec.id ?? `u-${spec.kind}-${spec.role}`,
    found: true,
    account_id: ACCOUNT_IDS[spec.kind],
    role: spec.role,
    status: spec.status ?? 'active',
    client_access_mode: spec.mode ?? null,
    permissions: spec.permissions === null ? null : permissionsJson(spec.permissions ?? {}),
    xpm_staff_id: spec.xpm ?? null,
  };
}

const unknownSubject = (id = 'u-ghost'): JsonObject => ({ id, found: false });

interface ClientFacts {
  id?: string;
  accountId?: string;
  ledger: Ledger;
  allocated: boolean;
  ledgerAccess: boolean;
}

function clientFacts(facts: ClientFacts): JsonObject {
  return {
    id: facts.id ?? `cl-${facts.ledger}-${facts.allocated ? 'a' : 'n'}${facts.ledgerAccess ? 'l' : 'n'}`,
    account_id: facts.accountId ?? ACCOUNT_IDS.practice,
    ledger: facts.ledger,
    allocated: facts.allocated,
    ledger_access: facts.ledgerAccess,
  };
}

function clientResource(facts: ClientFacts): JsonObject {
  return { type: 'client', attributes: {}, found: true, ...clientFacts(facts) };
}

function accountResource(accountId: string, kind: Kind): JsonObject {
  return { type: 'account', id: accountId, attributes: {}, found: true, account_id: accountId, kind };
}

interface UserFacts {
  id: string;
  accountId: string;
  role: string;
  status?: 'active' | 'suspended';
  mode?: Mode;
  permissions?: Permissions | null;
  xpm?: string | null;
  attributes?: JsonObject;
  attributeClient?: JsonObject;
}

/** Permissions as the loader gives them for a user stored with none set: every key, off. */
const NO_PERMISSIONS: Permissions = {
  add_clients: false,
  practice_insights: false,
  manage_business: false,
  create_expense_claims: false,
  publishing: 'none',
};

function userResource(facts: UserFacts): JsonObject {
  const resource: JsonObject = {
    type: 'user',
    id: facts.id,
    attributes: facts.attributes ?? {},
    found: true,
    account_id: facts.accountId,
    role: facts.role,
    status: facts.status ?? 'active',
    client_access_mode: facts.mode ?? null,
    permissions: facts.permissions === null ? null : permissionsJson(facts.permissions ?? NO_PERMISSIONS),
    xpm_staff_id: facts.xpm ?? null,
  };
  if (facts.attributeClient !== undefined) resource.attribute_client = facts.attributeClient;
  return resource;
}

/** user.create: the loader gives no id and no found, only the proposed attributes. */
const userCreateResource = (attributes: JsonObject = {}): JsonObject => ({ type: 'user', attributes });

interface ItemFacts {
  id?: string;
  accountId: string;
  owner: string;
  kind: ItemKind;
  client?: JsonObject | null;
}

function itemResource(facts: ItemFacts): JsonObject {
  const clientId = facts.client ? (facts.client.id as string) : null;
  const resource: JsonObject = {
    type: 'item',
    id: facts.id ?? `it-${facts.kind}-${clientId ?? 'own'}-${facts.owner}`,
    attributes: {},
    found: true,
    account_id: facts.accountId,
    client_id: clientId,
    owner_user_id: facts.owner,
    kind: facts.kind,
  };
  if (facts.client) resource.client = facts.client;
  return resource;
}

const notFound = (type: string, id: string): JsonObject => ({ type, id, attributes: {}, found: false });

function request(action: string, subj: JsonObject, acct: JsonObject | null, resource: JsonObject): JsonObject {
  return { action, subject: subj, account: acct, resource };
}

// ---- generator -----------------------------------------------------------------------------

class Corpus {
  readonly entries: Entry[] = [];
  readonly rng = new Prng(SEED);
  /** The area being generated. */
  area = '';
  readonly #seen = new Set<string>();

  /** Adds an input once: where the crossings of an area meet, the same input is not checked twice. */
  add(label: string, input: Json): void {
    const key = JSON.stringify(input);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.entries.push({ area: this.area, label, input });
  }

  /** Permissions as the loader gives them (every key set), chosen at random. */
  randomPermissions(): Permissions {
    const { rng } = this;
    return {
      add_clients: rng.bool(),
      practice_insights: rng.bool(),
      manage_business: rng.bool(0.3),
      create_expense_claims: rng.bool(),
      publishing: rng.pick(PUBLISHING),
    };
  }

  /** A client access mode as stored for a role: practice users have one, business users none. */
  randomMode(kind: Kind): Mode {
    return kind === 'practice' ? this.rng.pick(MODES) : this.rng.bool(0.8) ? null : this.rng.pick(MODES);
  }

  randomSubject(kind: Kind, role: string, extra: Partial<SubjectSpec> = {}): JsonObject {
    const { rng } = this;
    return subject({
      kind,
      role,
      mode: this.randomMode(kind),
      permissions: this.randomPermissions(),
      xpm: rng.bool(0.5) ? `xpm-${rng.int(1000)}` : null,
      ...extra,
    });
  }

  randomClient(accountId = ACCOUNT_IDS.practice): JsonObject {
    const { rng } = this;
    return clientFacts({ accountId, ledger: rng.pick(LEDGERS), allocated: rng.bool(), ledgerAccess: rng.bool() });
  }

  /** A well-formed, found resource of a type in an account, for the subject with subjectId. */
  randomResource(type: ResourceType, kind: Kind, accountId: string, subjectId: string, action: string): JsonObject {
    const { rng } = this;
    switch (type) {
      case 'client':
        return { type: 'client', attributes: {}, found: true, ...this.randomClient(accountId) };
      case 'account':
        return accountResource(accountId, kind);
      case 'user': {
        if (action === 'user.create') return userCreateResource(rng.bool() ? { role: rng.pick(ROLES[kind]) } : {});
        const self = rng.bool(0.2);
        return userResource({
          id: self ? subjectId : `u-target-${rng.int(50)}`,
          accountId,
          role: rng.pick(ROLES[kind]),
          status: rng.bool(0.8) ? 'active' : 'suspended',
          mode: this.randomMode(kind),
          attributes: action === 'user.update' && rng.bool() ? { role: rng.pick(ROLES[kind]) } : {},
        });
      }
      case 'item':
        return itemResource({
          accountId,
          owner: rng.bool(0.4) ? subjectId : `u-owner-${rng.int(5)}`,
          kind: rng.pick(ITEM_KINDS),
          client: kind === 'practice' && rng.bool(0.4) ? this.randomClient(accountId) : null,
        });
    }
  }

  // SPEC §2.2: every practice role × mode × ledger × allocated × ledger access × client action;
  // time.push also crossed with no link, a link and an empty link.
  clients(): void {
    const { rng } = this;
    for (const role of ROLES.practice) {
      for (const mode of MODES) {
        const xpmValues = [null, `xpm-${role}`, ''];
        const subjects = xpmValues.map((xpm) =>
          subject({ kind: 'practice', role, mode, permissions: this.randomPermissions(), xpm }),
        );
        for (const action of actionsOf('client')) {
          const chosen = action === 'time.push' ? subjects : [rng.pick(subjects.slice(0, 2))];
          for (const subj of chosen) {
            for (const ledger of LEDGERS) {
              for (const allocated of BOOLS) {
                for (const ledgerAccess of BOOLS) {
                  this.add(
                    `client ${action} role=${role} mode=${mode} xpm=${JSON.stringify(subj.xpm_staff_id)} ledger=${ledger} allocated=${allocated} ledger_access=${ledgerAccess}`,
                    request(action, subj, account('practice'), clientResource({ ledger, allocated, ledgerAccess })),
                  );
                }
              }
            }
          }
        }
      }
    }
    // Business users have no clients: a client of their own account id (the loader would never
    // find one, the policy must still refuse) and one of another practice.
    for (const role of ROLES.business) {
      const subj = this.randomSubject('business', role);
      for (const action of actionsOf('client')) {
        for (const accountId of [ACCOUNT_IDS.business, OTHER_ACCOUNT_IDS.practice]) {
          const resource = { type: 'client', attributes: {}, found: true, ...this.randomClient(accountId) };
          this.add(
            `client ${action} business role=${role} client account=${accountId}`,
            request(action, subj, account('business'), resource),
          );
        }
      }
    }
    // Clients of another practice: tenant_mismatch whatever the facts.
    for (const role of ROLES.practice) {
      const subj = this.randomSubject('practice', role);
      for (const action of actionsOf('client')) {
        const resource = {
          type: 'client',
          attributes: {},
          found: true,
          ...this.randomClient(OTHER_ACCOUNT_IDS.practice),
        };
        this.add(`client ${action} role=${role} other practice`, request(action, subj, account('practice'), resource));
      }
    }
  }

  // SPEC §2.3: every role of both kinds × every account action × the 16 combinations of the
  // boolean permissions, plus permissions null, empty and all-null.
  accounts(): void {
    const { rng } = this;
    const profiles: { name: string; permissions: Permissions | null }[] = [];
    for (let bits = 0; bits < 16; bits++) {
      profiles.push({
        name: `bits=${bits.toString(2).padStart(4, '0')}`,
        permissions: {
          add_clients: (bits & 1) !== 0,
          practice_insights: (bits & 2) !== 0,
          manage_business: (bits & 4) !== 0,
          create_expense_claims: (bits & 8) !== 0,
          publishing: rng.pick(PUBLISHING),
        },
      });
    }
    profiles.push({ name: 'null', permissions: null });
    profiles.push({ name: 'empty', permissions: {} });
    profiles.push({
      name: 'all-null',
      permissions: {
        add_clients: null,
        practice_insights: null,
        manage_business: null,
        create_expense_claims: null,
        publishing: null,
      },
    });
    for (const kind of KINDS) {
      for (const role of ROLES[kind]) {
        for (const profile of profiles) {
          const subj = this.randomSubject(kind, role, { permissions: profile.permissions });
          for (const action of actionsOf('account')) {
            this.add(
              `account ${action} ${kind} role=${role} permissions=${profile.name}`,
              request(action, subj, account(kind), accountResource(ACCOUNT_IDS[kind], kind)),
            );
          }
        }
        // Another account, of the same kind and of the other kind.
        const subj = this.randomSubject(kind, role);
        for (const action of actionsOf('account')) {
          for (const otherKind of KINDS) {
            this.add(
              `account ${action} ${kind} role=${role} other ${otherKind} account`,
              request(action, subj, account(kind), accountResource(OTHER_ACCOUNT_IDS[otherKind], otherKind)),
            );
          }
        }
      }
    }
  }

  // SPEC §2.4: every subject role × target role × user action × self or not; user.update and
  // user.create crossed with every proposed role; user.client_access.edit with the client cases.
  users(): void {
    const { rng } = this;
    for (const kind of KINDS) {
      const accountId = ACCOUNT_IDS[kind];
      for (const role of ROLES[kind]) {
        const subj = this.randomSubject(kind, role);
        const subjectId = subj.id as string;
        for (const action of actionsOf('user')) {
          if (action === 'user.create') {
            for (const proposal of PROPOSALS) {
              const attributes: JsonObject = proposal === undefined ? {} : { role: proposal };
              if (rng.bool(0.2)) attributes.name = 'New Colleague';
              this.add(
                `user ${action} ${kind} role=${role} proposed=${String(proposal)}`,
                request(action, subj, account(kind), userCreateResource(attributes)),
              );
            }
            continue;
          }
          const proposals = action === 'user.update' ? PROPOSALS : [undefined];
          for (const targetRole of ROLES[kind]) {
            for (const self of BOOLS) {
              for (const planned of proposals) {
                // Other actions sometimes carry a role attribute too: client access edits judge it,
                // profile and link edits refuse it, the others do not read it.
                const proposal = action === 'user.update' || rng.bool(0.8) ? planned : rng.pick(PROPOSALS);
                const target = userResource({
                  id: self ? subjectId : `u-target-${targetRole}`,
                  accountId,
                  role: targetRole,
                  status: rng.bool(0.75) ? 'active' : 'suspended',
                  mode: this.randomMode(kind),
                  attributes: proposal === undefined ? {} : { role: proposal },
                });
                this.add(
                  `user ${action} ${kind} role=${role} target=${targetRole} self=${self} proposed=${String(proposal)}`,
                  request(action, subj, account(kind), target),
                );
              }
            }
          }
        }
        // Users of another account of each kind.
        for (const action of actionsOf('user')) {
          if (action === 'user.create') continue;
          for (const otherKind of KINDS) {
            const target = userResource({
              id: `u-foreign-${otherKind}`,
              accountId: OTHER_ACCOUNT_IDS[otherKind],
              role: rng.pick(ROLES[otherKind]),
              mode: this.randomMode(otherKind),
            });
            this.add(
              `user ${action} ${kind} role=${role} other ${otherKind} account`,
              request(action, subj, account(kind), target),
            );
          }
        }
      }
    }
    this.clientAccessEdits();
  }

  // user.client_access.edit with attributes.client_id: every practice role × target mode ×
  // (client not found | ledger × ledger access × same or other account).
  clientAccessEdits(): void {
    const { rng } = this;
    const action = 'user.client_access.edit';
    for (const role of ROLES.practice) {
      const subj = this.randomSubject('practice', role);
      for (const mode of MODES) {
        const cases: { name: string; client: JsonObject }[] = [
          { name: 'missing', client: { id: 'cl-missing', found: false } },
        ];
        for (const ledger of LEDGERS) {
          for (const ledgerAccess of BOOLS) {
            for (const accountId of [ACCOUNT_IDS.practice, OTHER_ACCOUNT_IDS.practice]) {
              cases.push({
                name: `ledger=${ledger} ledger_access=${ledgerAccess} account=${accountId}`,
                client: {
                  id: `cl-${ledger}-${accountId}`,
                  found: true,
                  account_id: accountId,
                  ledger,
                  ledger_access: ledgerAccess,
                  subject_allocated: rng.bool(),
                  subject_ledger_access: rng.bool(),
                },
              });
            }
          }
        }
        for (const { name, client } of cases) {
          const self = rng.bool(0.1);
          const targetRole = rng.pick(['client_admin', 'standard', 'standard', rng.pick(ROLES.practice)]);
          const target = userResource({
            id: self ? (subj.id as string) : `u-target-${targetRole}`,
            accountId: ACCOUNT_IDS.practice,
            role: targetRole,
            mode,
            attributes: { client_id: client.id as string },
            attributeClient: client,
          });
          this.add(
            `user ${action} role=${role} target=${targetRole} self=${self} target_mode=${mode} client ${name}`,
            request(action, subj, account('practice'), target),
          );
        }
        // client_id null: nothing is allocated, the loader looks nothing up.
        const target = userResource({
          id: 'u-target-standard',
          accountId: ACCOUNT_IDS.practice,
          role: 'standard',
          mode,
          attributes: { client_id: null },
        });
        this.add(
          `user ${action} role=${role} target_mode=${mode} client_id=null`,
          request(action, subj, account('practice'), target),
        );
      }
    }
    // The loader looks attributes.client_id up for every user action; only client access edits take
    // it (create, update, profile and link edits refuse it; the others do not read it).
    for (const role of ['practice_admin', 'client_admin', 'standard']) {
      const subj = this.randomSubject('practice', role);
      for (const other of actionsOf('user')) {
        if (other === action || other === 'user.create') continue;
        for (const found of BOOLS) {
          const client: JsonObject = found
            ? {
                id: 'cl-y',
                found: true,
                account_id: rng.pick([ACCOUNT_IDS.practice, OTHER_ACCOUNT_IDS.practice]),
                ledger: rng.pick(LEDGERS),
                ledger_access: rng.bool(),
                subject_allocated: rng.bool(),
                subject_ledger_access: rng.bool(),
              }
            : { id: 'cl-y', found: false };
          const target = userResource({
            id: rng.bool(0.3) ? (subj.id as string) : 'u-target-standard',
            accountId: ACCOUNT_IDS.practice,
            role: 'standard',
            mode: 'ledger_selected',
            attributes: { client_id: 'cl-y', ...(other === 'user.update' ? { role: rng.pick(ROLES.practice) } : {}) },
            attributeClient: client,
          });
          this.add(
            `user ${other} role=${role} attributes.client_id found=${found}`,
            request(other, subj, account('practice'), target),
          );
        }
      }
    }
    // Business accounts have no client access to edit.
    for (const role of ROLES.business) {
      const subj = this.randomSubject('business', role);
      for (const found of BOOLS) {
        const client: JsonObject = found
          ? {
              id: 'cl-x',
              found: true,
              account_id: ACCOUNT_IDS.business,
              ledger: 'xero',
              ledger_access: false,
              subject_allocated: false,
              subject_ledger_access: false,
            }
          : { id: 'cl-x', found: false };
        const target = userResource({
          id: 'u-target-b',
          accountId: ACCOUNT_IDS.business,
          role: 'standard',
          attributes: { client_id: 'cl-x' },
          attributeClient: client,
        });
        this.add(
          `user ${action} business role=${role} client found=${found}`,
          request(action, subj, account('business'), target),
        );
      }
    }
  }

  // SPEC §2.4a, limits on delegation: allocations, modes and own-books permissions proposed by
  // every practice role (client admins of every mode and permission profile), status and link
  // proposals on every edit by every role, values an edit does not take, user.create with an id.
  delegation(): void {
    this.allocationsByAdmins();
    this.modeProposals();
    this.permissionProposals();
    this.statusAndLinkProposals();
    this.createWithId();
  }

  // Every subject mode × ledger × the subject's own allocation and ledger access to the client.
  allocationsByAdmins(): void {
    const { rng } = this;
    const action = 'user.client_access.edit';
    for (const role of ['client_admin', 'practice_admin', 'standard']) {
      for (const mode of MODES) {
        const subj = this.randomSubject('practice', role, { mode });
        for (const ledger of LEDGERS) {
          for (const subjectAllocated of BOOLS) {
            for (const subjectLedgerAccess of BOOLS) {
              const client: JsonObject = {
                id: `cl-${ledger}`,
                found: true,
                account_id: ACCOUNT_IDS.practice,
                ledger,
                ledger_access: rng.bool(),
                subject_allocated: subjectAllocated,
                subject_ledger_access: subjectLedgerAccess,
              };
              const self = rng.bool(0.1);
              const target = userResource({
                id: self ? (subj.id as string) : 'u-target-standard',
                accountId: ACCOUNT_IDS.practice,
                role: rng.pick(['standard', 'client_admin']),
                mode: this.randomMode('practice'),
                attributes: { client_id: client.id as string },
                attributeClient: client,
              });
              this.add(
                `delegation allocation role=${role} mode=${mode} ledger=${ledger} subject_allocated=${subjectAllocated} subject_ledger_access=${subjectLedgerAccess} self=${self}`,
                request(action, subj, account('practice'), target),
              );
            }
          }
        }
      }
    }
  }

  // Every subject mode × proposal action × proposed mode (none, null, each, a wrong one) × proposed
  // role (none, client_admin, standard) × the target's stored mode.
  modeProposals(): void {
    const { rng } = this;
    const proposedModes: (Json | undefined)[] = [undefined, ...MODES, 'everything'];
    for (const role of ['client_admin', 'practice_admin', 'standard']) {
      for (const mode of MODES) {
        const subj = this.randomSubject('practice', role, { mode });
        for (const action of ['user.create', 'user.update', 'user.client_access.edit']) {
          for (const proposedMode of proposedModes) {
            for (const proposedRole of [undefined, 'client_admin', 'standard']) {
              const attributes: JsonObject = {};
              if (proposedMode !== undefined) attributes.client_access_mode = proposedMode;
              if (proposedRole !== undefined) attributes.role = proposedRole;
              const storedMode = this.randomMode('practice');
              const resource =
                action === 'user.create'
                  ? userCreateResource(attributes)
                  : userResource({
                      id: rng.bool(0.1) ? (subj.id as string) : 'u-target-colleague',
                      accountId: ACCOUNT_IDS.practice,
                      role: rng.pick(['standard', 'client_admin', 'expense_approver']),
                      mode: storedMode,
                      attributes,
                    });
              this.add(
                `delegation mode ${action} role=${role} mode=${mode} proposed_mode=${JSON.stringify(proposedMode)} proposed_role=${String(proposedRole)} stored_mode=${storedMode}`,
                request(action, subj, account('practice'), resource),
              );
            }
          }
        }
      }
    }
  }

  // Subjects of every permission profile (manage_business × create_expense_claims × publishing)
  // proposing a sample of permission objects, well-typed and not, to targets that hold some.
  permissionProposals(): void {
    const { rng } = this;
    const proposals: JsonObject[] = [
      { manage_business: true },
      { manage_business: false },
      { create_expense_claims: true },
      { create_expense_claims: null },
      { publishing: 'all' },
      { publishing: 'expense_claims_only' },
      { publishing: 'none' },
      { publishing: null },
      { manage_business: true, create_expense_claims: true, publishing: 'all' },
      { add_clients: true, practice_insights: true },
      {},
      { publishing: 'lots' },
      { manage_business: 'yes' },
      { billing: true },
    ];
    const subjects: [Kind, string][] = [
      ['practice', 'client_admin'],
      ['practice', 'practice_admin'],
      ['practice', 'standard'],
      ['business', 'user_admin'],
      ['business', 'business_admin'],
    ];
    for (const [kind, role] of subjects) {
      for (const manageBusiness of BOOLS) {
        for (const createClaims of BOOLS) {
          for (const publishing of PUBLISHING) {
            const permissions = {
              ...this.randomPermissions(),
              manage_business: manageBusiness,
              create_expense_claims: createClaims,
              publishing,
            };
            const subj = this.randomSubject(kind, role, { permissions });
            for (const action of ['user.create', 'user.update']) {
              for (let i = 0; i < 4; i++) {
                const proposal = rng.pick(proposals);
                const attributes: JsonObject = {
                  permissions: rng.bool(0.05) ? rng.pick([null, 'all', [true]]) : proposal,
                };
                const resource =
                  action === 'user.create'
                    ? userCreateResource(attributes)
                    : userResource({
                        id: rng.bool(0.1) ? (subj.id as string) : 'u-target-colleague',
                        accountId: ACCOUNT_IDS[kind],
                        role: 'standard',
                        mode: this.randomMode(kind),
                        permissions: rng.bool(0.1) ? null : this.randomPermissions(),
                        attributes,
                      });
                this.add(
                  `delegation permissions ${action} ${kind} role=${role} manage_business=${manageBusiness} create_expense_claims=${createClaims} publishing=${publishing} proposed=${JSON.stringify(attributes.permissions)}`,
                  request(action, subj, account(kind), resource),
                );
              }
            }
          }
        }
      }
    }
  }

  // Every role of both kinds × every editing user action × link proposals (none, null, a link, the
  // target's own, wrong types) × self or not, with a random status proposal; and each proposed
  // value on each edit, to reach the values an edit does not take.
  statusAndLinkProposals(): void {
    const { rng } = this;
    const edits = ['user.create', 'user.update', 'user.client_access.edit', 'user.xpm_link.edit', 'user.profile.edit'];
    const statuses: (Json | undefined)[] = [undefined, undefined, null, 'active', 'suspended', 'gone'];
    for (const kind of KINDS) {
      for (const role of ROLES[kind]) {
        const subj = this.randomSubject(kind, role);
        for (const action of edits) {
          for (const self of BOOLS) {
            const targetLink = rng.bool() ? 'xpm-target' : null;
            for (const link of [undefined, null, 'xpm-new', targetLink, 12]) {
              const attributes: JsonObject = {};
              if (link !== undefined) attributes.xpm_staff_id = link;
              const status = rng.pick(statuses);
              if (status !== undefined) attributes.status = status;
              const resource =
                action === 'user.create'
                  ? userCreateResource(attributes)
                  : userResource({
                      id: self ? (subj.id as string) : 'u-target-colleague',
                      accountId: ACCOUNT_IDS[kind],
                      role: rng.pick(ROLES[kind]),
                      status: rng.bool(0.8) ? 'active' : 'suspended',
                      mode: this.randomMode(kind),
                      xpm: targetLink,
                      attributes,
                    });
              this.add(
                `delegation link ${action} ${kind} role=${role} self=${self} link=${JSON.stringify(link)} target_link=${targetLink} status=${JSON.stringify(status)}`,
                request(action, subj, account(kind), resource),
              );
            }
          }
        }
      }
    }
    const values: JsonObject = {
      role: 'standard',
      client_access_mode: null,
      permissions: { add_clients: true },
      status: 'active',
      xpm_staff_id: 'xpm-1',
      client_id: 'cl-z',
    };
    const subj = this.randomSubject('practice', 'practice_admin');
    for (const action of actionsOf('user')) {
      for (const [name, value] of Object.entries(values)) {
        for (const proposed of [value, null]) {
          const attributes: JsonObject = { [name]: proposed, nickname: 'Jo' };
          const resource =
            action === 'user.create'
              ? userCreateResource(attributes)
              : userResource({
                  id: 'u-target-colleague',
                  accountId: ACCOUNT_IDS.practice,
                  role: 'standard',
                  attributes,
                  ...(typeof proposed === 'string' && name === 'client_id'
                    ? { attributeClient: { id: proposed, found: false } }
                    : {}),
                });
          this.add(
            `delegation takes ${action} ${name}=${JSON.stringify(proposed)}`,
            request(action, subj, account('practice'), resource),
          );
        }
      }
    }
  }

  // user.create names no user: an id, of a user of this account, of another account or of nobody,
  // is refused, whoever asks.
  createWithId(): void {
    for (const kind of KINDS) {
      for (const role of ROLES[kind]) {
        const subj = this.randomSubject(kind, role);
        const own = userResource({
          id: 'u-colleague',
          accountId: ACCOUNT_IDS[kind],
          role: 'standard',
          attributes: { role: 'standard' },
        });
        const foreign = userResource({
          id: 'u-elsewhere',
          accountId: OTHER_ACCOUNT_IDS[kind],
          role: 'standard',
          attributes: {},
        });
        const nobody = { type: 'user', id: 'u-nobody', attributes: {}, found: false };
        const bare = { type: 'user', id: 'u-bare', attributes: { role: 'standard' } };
        for (const [name, resource] of [
          ['own', own],
          ['foreign', foreign],
          ['nobody', nobody],
          ['bare', bare],
        ] as const) {
          this.add(
            `delegation create with id ${kind} role=${role} id=${name}`,
            request('user.create', subj, account(kind), resource),
          );
        }
      }
    }
  }

  // SPEC §2.5: own-books items for every role × manage_business × publishing × kind × owner ×
  // item action; client items for every practice role × mode × ledger × allocated × ledger access.
  items(): void {
    const { rng } = this;
    for (const kind of KINDS) {
      for (const role of ROLES[kind]) {
        for (const manageBusiness of BOOLS) {
          for (const publishing of PUBLISHING) {
            const permissions = { ...this.randomPermissions(), manage_business: manageBusiness, publishing };
            const subj = this.randomSubject(kind, role, { permissions });
            const subjectId = subj.id as string;
            for (const action of actionsOf('item')) {
              for (const itemKind of ITEM_KINDS) {
                for (const own of BOOLS) {
                  const item = itemResource({
                    accountId: ACCOUNT_IDS[kind],
                    owner: own ? subjectId : 'u-colleague',
                    kind: itemKind,
                  });
                  this.add(
                    `item ${action} ${kind} role=${role} manage_business=${manageBusiness} publishing=${publishing} kind=${itemKind} own=${own}`,
                    request(action, subj, account(kind), item),
                  );
                }
              }
            }
          }
        }
        // Items of another account.
        const subj = this.randomSubject(kind, role);
        for (const action of actionsOf('item')) {
          const other = itemResource({
            accountId: OTHER_ACCOUNT_IDS[kind],
            owner: subj.id as string,
            kind: rng.pick(ITEM_KINDS),
          });
          this.add(`item ${action} ${kind} role=${role} other account`, request(action, subj, account(kind), other));
        }
      }
    }
    for (const role of ROLES.practice) {
      for (const mode of MODES) {
        const subj = this.randomSubject('practice', role, { mode });
        const subjectId = subj.id as string;
        for (const action of actionsOf('item')) {
          for (const ledger of LEDGERS) {
            for (const allocated of BOOLS) {
              for (const ledgerAccess of BOOLS) {
                const itemKind = rng.pick(ITEM_KINDS);
                const own = rng.bool(0.4);
                const client = clientFacts({ ledger, allocated, ledgerAccess });
                const item = itemResource({
                  accountId: ACCOUNT_IDS.practice,
                  owner: own ? subjectId : 'u-colleague',
                  kind: itemKind,
                  client,
                });
                this.add(
                  `item ${action} client item role=${role} mode=${mode} ledger=${ledger} allocated=${allocated} ledger_access=${ledgerAccess} kind=${itemKind} own=${own}`,
                  request(action, subj, account('practice'), item),
                );
              }
            }
          }
        }
      }
    }
    // Business users and client items (no such thing in a business account; the policy decides anyway).
    for (const role of ROLES.business) {
      const subj = this.randomSubject('business', role);
      for (const action of actionsOf('item')) {
        const item = itemResource({
          accountId: ACCOUNT_IDS.business,
          owner: subj.id as string,
          kind: 'expense_claim',
          client: this.randomClient(ACCOUNT_IDS.business),
        });
        this.add(`item ${action} business role=${role} client item`, request(action, subj, account('business'), item));
      }
    }
  }

  // SPEC §2.1 for every action (and unknown ones) × every role: suspended, resource not found,
  // another tenant, the wrong resource type, an unknown subject; sometimes two at once.
  alwaysFirst(): void {
    const { rng } = this;
    const actions = [...ACTION_NAMES, ...UNKNOWN_ACTIONS];
    for (const action of actions) {
      const type: ResourceType = ACTIONS[action] ?? rng.pick(RESOURCE_TYPES);
      for (const kind of KINDS) {
        for (const role of ROLES[kind]) {
          const active = this.randomSubject(kind, role);
          const subjectId = active.id as string;
          const own = () => this.randomResource(type, kind, ACCOUNT_IDS[kind], subjectId, action);
          const suspended = { ...active, status: 'suspended' };
          const maybeSuspended = () => (rng.bool(0.25) ? suspended : active);
          const cases: [string, JsonObject, JsonObject | null, JsonObject][] = [
            ['valid', active, account(kind), own()],
            ['suspended', suspended, account(kind), rng.bool(0.25) ? notFound(type, 'r-gone') : own()],
            ['resource not found', maybeSuspended(), account(kind), notFound(type, `r-gone-${rng.int(9)}`)],
            [
              'other tenant',
              maybeSuspended(),
              account(kind),
              this.randomResource(type, kind, OTHER_ACCOUNT_IDS[kind], subjectId, action),
            ],
          ];
          const wrongType = rng.pick(RESOURCE_TYPES.filter((t) => t !== type));
          cases.push([
            'wrong type',
            maybeSuspended(),
            account(kind),
            this.randomResource(wrongType, kind, ACCOUNT_IDS[kind], subjectId, action),
          ]);
          const ghost = unknownSubject(`u-ghost-${rng.int(9)}`);
          cases.push(['unknown subject', ghost, null, rng.bool() ? own() : notFound(type, 'r-gone')]);
          for (const [name, subj, acct, resource] of cases) {
            this.add(
              `first ${name} action=${JSON.stringify(action)} ${kind} role=${role} type=${String(resource.type)}`,
              request(action, subj, acct, resource),
            );
          }
        }
      }
    }
  }

  // Malformed inputs: non-objects, and well-formed bases with one or two fields removed or of
  // the wrong type or value.
  malformed(): void {
    const { rng } = this;
    const valid = request(
      'client.view',
      this.randomSubject('practice', 'standard'),
      account('practice'),
      clientResource({ ledger: 'xero', allocated: true, ledgerAccess: true }),
    );
    const nonObjects: Json[] = [null, 0, 42, -1.5, '', 'client.view', true, false, [], [valid], {}];
    for (const value of nonObjects) this.add(`malformed non-object ${JSON.stringify(value).slice(0, 40)}`, value);

    const practiceAdmin = this.randomSubject('practice', 'practice_admin');
    const clientAdmin = this.randomSubject('practice', 'client_admin', { xpm: 'xpm-9' });
    const standard = this.randomSubject('practice', 'standard', { mode: 'ledger_selected' });
    const businessAdmin = this.randomSubject('business', 'business_admin');
    const userAdmin = this.randomSubject('business', 'user_admin');
    const restrictedAdmin = this.randomSubject('practice', 'client_admin', {
      mode: 'ledger_selected',
      permissions: { publishing: 'expense_claims_only' },
    });
    const foundClient = (id: string): JsonObject => ({
      id,
      found: true,
      account_id: ACCOUNT_IDS.practice,
      ledger: 'xero',
      ledger_access: true,
    });
    // A client access edit of a standard user in mode, allocating client.
    const allocation = (subj: JsonObject, targetId: string, mode: Mode, client: JsonObject) =>
      request(
        'user.client_access.edit',
        subj,
        account('practice'),
        userResource({
          id: targetId,
          accountId: ACCOUNT_IDS.practice,
          role: 'standard',
          mode,
          attributes: { client_id: client.id as string },
          attributeClient: client,
        }),
      );
    const client = (facts: Partial<ClientFacts> = {}) =>
      clientFacts({ ledger: 'xero', allocated: true, ledgerAccess: false, ...facts });
    const bases: [string, JsonObject][] = [
      [
        'client.view standard',
        request(
          'client.view',
          standard,
          account('practice'),
          clientResource({ ledger: 'xero', allocated: true, ledgerAccess: true }),
        ),
      ],
      [
        'time.push client_admin',
        request(
          'time.push',
          clientAdmin,
          account('practice'),
          clientResource({ ledger: 'myob', allocated: false, ledgerAccess: false }),
        ),
      ],
      [
        'settings.edit business_admin',
        request('settings.edit', businessAdmin, account('business'), accountResource(ACCOUNT_IDS.business, 'business')),
      ],
      [
        'client.create standard',
        request('client.create', standard, account('practice'), accountResource(ACCOUNT_IDS.practice, 'practice')),
      ],
      [
        'user.update client_admin',
        request(
          'user.update',
          clientAdmin,
          account('practice'),
          userResource({
            id: 'u-t1',
            accountId: ACCOUNT_IDS.practice,
            role: 'standard',
            mode: 'selected',
            attributes: { role: 'client_admin' },
          }),
        ),
      ],
      [
        'user.client_access.edit practice_admin found',
        allocation(practiceAdmin, 'u-t2', 'ledger_selected', {
          ...foundClient('cl-9'),
          subject_allocated: false,
          subject_ledger_access: true,
        }),
      ],
      [
        'user.client_access.edit client_admin missing client',
        allocation(clientAdmin, 'u-t3', 'all', { id: 'cl-0', found: false }),
      ],
      [
        'user.create user_admin',
        request('user.create', userAdmin, account('business'), userCreateResource({ role: 'standard' })),
      ],
      [
        'user.update restricted client_admin proposing everything',
        request(
          'user.update',
          restrictedAdmin,
          account('practice'),
          userResource({
            id: 'u-t4',
            accountId: ACCOUNT_IDS.practice,
            role: 'standard',
            mode: 'selected',
            permissions: { publishing: 'expense_claims_only' },
            xpm: 'xpm-4',
            attributes: {
              role: 'client_admin',
              client_access_mode: 'ledger_all',
              permissions: { publishing: 'all' },
              status: 'active',
              xpm_staff_id: 'xpm-5',
            },
          }),
        ),
      ],
      [
        'user.create restricted client_admin',
        request(
          'user.create',
          restrictedAdmin,
          account('practice'),
          userCreateResource({ role: 'client_admin', client_access_mode: 'selected' }),
        ),
      ],
      [
        'user.client_access.edit restricted client_admin',
        allocation(restrictedAdmin, 'u-t5', 'ledger_selected', {
          ...foundClient('cl-7'),
          subject_allocated: true,
          subject_ledger_access: false,
        }),
      ],
      [
        'user.xpm_link.edit client_admin',
        request(
          'user.xpm_link.edit',
          clientAdmin,
          account('practice'),
          userResource({
            id: 'u-t6',
            accountId: ACCOUNT_IDS.practice,
            role: 'standard',
            attributes: { xpm_staff_id: 'xpm-6' },
          }),
        ),
      ],
      [
        'item.publish own standard',
        request(
          'item.publish',
          standard,
          account('practice'),
          itemResource({ accountId: ACCOUNT_IDS.practice, owner: standard.id as string, kind: 'receipt' }),
        ),
      ],
      [
        'item.view client item standard',
        request(
          'item.view',
          standard,
          account('practice'),
          itemResource({ accountId: ACCOUNT_IDS.practice, owner: 'u-colleague', kind: 'invoice', client: client() }),
        ),
      ],
      [
        'expense_claim.approve user_admin',
        request(
          'expense_claim.approve',
          userAdmin,
          account('business'),
          itemResource({ accountId: ACCOUNT_IDS.business, owner: 'u-colleague', kind: 'expense_claim' }),
        ),
      ],
    ];

    const mutations = MUTATIONS;
    for (const [baseName, base] of bases) {
      const applicable = mutations.filter((mutation) => applies(base, mutation));
      for (const mutation of applicable) {
        this.add(`malformed ${baseName}: ${describe(mutation)}`, mutate(base, [mutation]));
      }
      // Pairs, so several invalid_input messages have to be sorted alike.
      for (let i = 0; i < 8 && applicable.length > 1; i++) {
        const first = rng.pick(applicable);
        const second = rng.pick(applicable.filter((m) => m !== first));
        this.add(`malformed ${baseName}: ${describe(first)} and ${describe(second)}`, mutate(base, [first, second]));
      }
    }
  }
}

// ---- mutations -----------------------------------------------------------------------------

const REMOVE = Symbol('remove');

interface Mutation {
  path: readonly string[];
  value: Json | typeof REMOVE;
  /** Also applies when the field is absent (adds it); otherwise only fields the base has are changed. */
  add?: boolean;
}

const m = (path: string, ...values: (Json | typeof REMOVE)[]): Mutation[] =>
  values.map((value) => ({ path: path.split('.'), value }));
const added = (path: string, ...values: Json[]): Mutation[] =>
  values.map((value) => ({ path: path.split('.'), value, add: true }));

const MUTATIONS: readonly Mutation[] = [
  ...m('action', REMOVE, 7, null, ['client.view']),
  ...m('subject', REMOVE, null, 'u-1', []),
  ...m('subject.id', REMOVE, 5),
  ...m('subject.found', REMOVE, 'true', null, 1),
  ...m('subject.account_id', REMOVE, 3, 'acc-elsewhere'),
  ...m(
    'subject.role',
    REMOVE,
    'admin',
    'PRACTICE_ADMIN',
    null,
    'practice_admin',
    'business_admin',
    'user_admin',
    'client_admin',
  ),
  ...m('subject.status', REMOVE, 'disabled', null),
  ...m('subject.client_access_mode', REMOVE, 'everything', 0, 'ledger_all'),
  ...m('subject.permissions', REMOVE, 'all', [], null),
  ...m('subject.permissions.add_clients', 'yes', 1, REMOVE),
  ...m('subject.permissions.practice_insights', 'no'),
  ...m('subject.permissions.manage_business', 'true', REMOVE, true),
  ...m('subject.permissions.create_expense_claims', 0),
  ...m('subject.permissions.publishing', 'some', true, REMOVE, 'all'),
  ...m('subject.xpm_staff_id', 12, false, REMOVE, ''),
  ...m('account', REMOVE, null, 'acc'),
  ...m('account.id', 'acc-elsewhere', 9, REMOVE),
  ...m('account.kind', 'enterprise', REMOVE, 'practice', 'business'),
  ...m('account.name', REMOVE, 3),
  ...m('resource', REMOVE, null, 'c1', []),
  ...m('resource.type', 'document', REMOVE, 7, 'CLIENT', 'client', 'account', 'user', 'item'),
  ...m('resource.id', REMOVE, 42, null),
  ...added('resource.id', 'u-elsewhere'),
  ...m('resource.found', REMOVE, 'yes', false),
  ...m('resource.attributes', 'x', [], null, REMOVE),
  ...m('resource.attributes.role', 5, true, REMOVE, 'expense_approver', 'practice_admin'),
  ...added('resource.attributes.client_id', 7, null, 'cl-ghost'),
  ...added('resource.attributes.client_access_mode', 'everything', null, 'all', 3),
  ...added(
    'resource.attributes.permissions',
    'all',
    null,
    { manage_business: true },
    { publishing: 'lots' },
    { billing: true },
  ),
  ...added('resource.attributes.status', 'gone', null, 'suspended'),
  ...added('resource.attributes.xpm_staff_id', 12, null, 'xpm-9'),
  ...m('resource.account_id', REMOVE, 1, 'acc-elsewhere'),
  ...m('resource.ledger', 'sage', REMOVE, 'none'),
  ...m('resource.allocated', 'yes', null, REMOVE),
  ...m('resource.ledger_access', null, 1),
  ...m('resource.kind', 'memo', REMOVE, 'business', 'expense_claim'),
  ...m('resource.role', 'boss', REMOVE, 'practice_admin'),
  ...m('resource.status', 'gone', 'suspended'),
  ...m('resource.client_access_mode', 'some', REMOVE),
  ...m('resource.permissions', 'all', null, REMOVE),
  ...m('resource.permissions.publishing', 'lots', REMOVE),
  ...m('resource.permissions.manage_business', 'yes', true),
  ...m('resource.xpm_staff_id', 5, REMOVE, 'xpm-3'),
  ...m('resource.attribute_client', REMOVE, null, 'x'),
  ...m('resource.attribute_client.found', REMOVE, 'no'),
  ...m('resource.attribute_client.ledger', 'sage'),
  ...m('resource.attribute_client.ledger_access', REMOVE, 'yes'),
  ...m('resource.attribute_client.account_id', 5, REMOVE),
  ...m('resource.attribute_client.subject_allocated', REMOVE, 'yes', true),
  ...m('resource.attribute_client.subject_ledger_access', REMOVE, 1, false),
  ...m('resource.client_id', 5, REMOVE, null),
  ...m('resource.owner_user_id', REMOVE, 3),
  ...m('resource.client', REMOVE, null, []),
  ...m('resource.client.ledger', 'sage'),
  ...m('resource.client.allocated', REMOVE, 'true'),
  ...m('resource.client.ledger_access', null),
  ...m('resource.client.account_id', REMOVE),
  ...added('extra', 'x'),
  ...added('resource.extra', { nested: [1, 2] }),
];

function parentOf(value: Json, path: readonly string[]): JsonObject | undefined {
  let node: Json | undefined = value;
  for (const key of path.slice(0, -1)) {
    if (!isJsonObject(node)) return undefined;
    node = node[key];
  }
  return isJsonObject(node) ? node : undefined;
}

function applies(base: JsonObject, mutation: Mutation): boolean {
  const parent = parentOf(base, mutation.path);
  const key = mutation.path.at(-1) as string;
  if (parent === undefined) return false;
  if (!(key in parent)) return mutation.add === true;
  return mutation.value === REMOVE || JSON.stringify(parent[key]) !== JSON.stringify(mutation.value);
}

function mutate(base: JsonObject, mutations: readonly Mutation[]): JsonObject {
  const copy = clone(base);
  for (const mutation of mutations) {
    const parent = parentOf(copy, mutation.path);
    const key = mutation.path.at(-1) as string;
    if (parent === undefined) continue; // the other mutation of a pair replaced an ancestor
    if (mutation.value === REMOVE) delete parent[key];
    else parent[key] = clone(mutation.value);
  }
  return copy;
}

const describe = (mutation: Mutation): string =>
  `${mutation.path.join('.')} ${mutation.value === REMOVE ? 'removed' : `= ${JSON.stringify(mutation.value)}`}`;

/** The whole corpus, in a fixed order. */
export function generateCorpus(): Entry[] {
  const corpus = new Corpus();
  const areas: Array<[string, () => void]> = [
    ['clients', () => corpus.clients()],
    ['accounts', () => corpus.accounts()],
    ['users', () => corpus.users()],
    ['delegation', () => corpus.delegation()],
    ['items', () => corpus.items()],
    ['always first', () => corpus.alwaysFirst()],
    ['malformed', () => corpus.malformed()],
  ];
  for (const [area, generate] of areas) {
    corpus.area = area;
    generate();
  }
  return corpus.entries;
}
