// A realistic mix of decision requests over the benchmark data set: mostly users asking about
// their own account's clients, documents, settings and colleagues, a few across tenants or about
// things that do not exist. Deterministic (seeded), so every run sends the same requests.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../service/data/schema.ts';
import type { DecideRequest } from '../service/domain/policy-input.ts';

/** mulberry32: a small seeded generator, good enough to spread requests. */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Account {
  id: string;
  kind: 'practice' | 'business';
  users: string[];
  clients: string[];
  items: string[];
}

async function loadAccounts(db: Kysely<Database>): Promise<Account[]> {
  const accounts = new Map<string, Account>();
  for (const a of await db.selectFrom('accounts').select(['id', 'kind']).orderBy('id').execute()) {
    accounts.set(a.id, { id: a.id, kind: a.kind, users: [], clients: [], items: [] });
  }
  const add = (rows: Array<{ id: string; account_id: string }>, key: 'users' | 'clients' | 'items') => {
    for (const row of rows) accounts.get(row.account_id)?.[key].push(row.id);
  };
  add(await db.selectFrom('users').select(['id', 'account_id']).orderBy('id').execute(), 'users');
  add(await db.selectFrom('clients').select(['id', 'account_id']).orderBy('id').execute(), 'clients');
  add(await db.selectFrom('items').select(['id', 'account_id']).orderBy('id').execute(), 'items');
  return [...accounts.values()];
}

const CLIENT_ACTIONS = [
  'client.view',
  'client.view',
  'client.view',
  'client.access',
  'client.edit',
  'client.console.view',
  'xbert.assign',
  'task.assign',
  'time.push',
];
const ITEM_ACTIONS = ['item.view', 'item.view', 'item.view', 'item.edit', 'item.publish', 'expense_claim.approve'];
const ACCOUNT_ACTIONS = [
  'settings.view',
  'settings.edit',
  'users.list',
  'subscription.manage',
  'client.create',
  'insights.view',
  'processes.manage',
  'automation.manage',
  'expense_claim.create',
];
const USER_ACTIONS = [
  'user.view',
  'user.view',
  'user.profile.edit',
  'user.update',
  'user.create',
  'user.suspend',
  'user.enable',
  'user.remove',
  'user.client_access.edit',
];
const ROLES = {
  practice: ['practice_admin', 'client_admin', 'standard', 'expense_approver', 'user_admin'],
  business: ['business_admin', 'user_admin', 'standard', 'expense_approver', 'client_admin'],
};

/** count requests drawn from the data set; the same count and seed give the same list. */
export async function requestMix(db: Kysely<Database>, count: number, seed = 42): Promise<DecideRequest[]> {
  const accounts = await loadAccounts(db);
  const practices = accounts.filter((a) => a.kind === 'practice');
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const chance = (p: number) => random() < p;
  const requests: DecideRequest[] = [];
  while (requests.length < count) {
    const roll = random();
    if (roll < 0.35) {
      // Client access: a practice user and a client of their practice (5% of another practice).
      const account = pick(practices);
      const clientsOf = chance(0.05) ? pick(practices) : account;
      requests.push({
        subject: { id: pick(account.users) },
        action: pick(CLIENT_ACTIONS),
        resource: { type: 'client', id: pick(clientsOf.clients) },
      });
    } else if (roll < 0.6) {
      const account = pick(accounts);
      const itemsOf = chance(0.03) ? pick(accounts) : account;
      requests.push({
        subject: { id: pick(account.users) },
        action: pick(ITEM_ACTIONS),
        resource: { type: 'item', id: pick(itemsOf.items) },
      });
    } else if (roll < 0.75) {
      const account = pick(accounts);
      requests.push({
        subject: { id: pick(account.users) },
        action: pick(ACCOUNT_ACTIONS),
        resource: { type: 'account', id: chance(0.02) ? pick(accounts).id : account.id },
      });
    } else if (roll < 0.95) {
      const account = pick(accounts);
      const subject = pick(account.users);
      const action = pick(USER_ACTIONS);
      const attributes: Record<string, unknown> = {};
      if ((action === 'user.create' || action === 'user.update') && chance(0.7))
        attributes.role = pick(ROLES[account.kind]);
      if (action === 'user.client_access.edit' && account.kind === 'practice' && chance(0.8))
        attributes.client_id = pick(account.clients);
      const resource =
        action === 'user.create'
          ? { type: 'user', attributes }
          : { type: 'user', id: chance(0.3) ? subject : pick(account.users), attributes };
      requests.push({ subject: { id: subject }, action, resource });
    } else {
      // Things that do not exist: an unknown user, client or item.
      const account = pick(practices);
      requests.push(
        chance(0.5)
          ? {
              subject: { id: `ghost-${requests.length}` },
              action: 'client.view',
              resource: { type: 'client', id: pick(account.clients) },
            }
          : {
              subject: { id: pick(account.users) },
              action: chance(0.5) ? 'client.view' : 'item.view',
              resource: { type: chance(0.5) ? 'client' : 'item', id: `missing-${requests.length}` },
            },
      );
    }
  }
  return requests;
}

/** The ids of every client of the big practice, for the list query. */
export async function clientCount(db: Kysely<Database>, accountId: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from clients where account_id = ${accountId}`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}
