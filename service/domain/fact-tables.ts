// The registry of fact tables: the tables whose rows decisions read, each with the facts loaded
// from it, the audit record type of the API's own changes to it, and the key its change
// notifications name. The fact cache's invalidation and the Facts type follow from it.
import type { Kysely } from 'kysely';
import type { AuditDraft } from '../data/audit.ts';
import {
  type AccountFact,
  accountClients,
  accountItems,
  accountUsers,
  type ClientFact,
  type ClientSummary,
  type FactRow,
  findFactById,
  type ItemFact,
  type RecordTable,
  type UserFact,
  userClientIds,
} from '../data/facts.ts';
import type { Database, FactRecordType } from '../data/schema.ts';
import { findToken } from '../data/tokens.ts';
import { LinkSet, type Links } from './link-set.ts';

/**
 * Gives back the copy of a string the cache already holds, when it holds one (the fact store's
 * string pool): a row read from the database brings fresh copies of values that recur in many
 * facts (its account's id, a role, a ledger). Only for those: a pool entry costs more than the
 * copy it saves unless the value recurs (measured with client ids in users' allocations, which
 * at the benchmark's working set mostly do not).
 */
export type Intern = <S extends string>(value: S) => S;

/** One kind of fact a decision reads by key: how it is loaded, and how much room it takes in the cache. */
interface FactSpec<V> {
  load(db: Kysely<Database>, key: string, intern: Intern): Promise<V>;
  /** What an entry weighs in the cache (1 when left out): a list weighs its length. */
  weigh?: (value: V) => number;
  /** The cache's bound, from the bound each kind of fact gets (that bound when left out). */
  bound?: (maxEntries: number) => number;
}

// Rows as the cache keeps them: every column a decision reads (all but the two timestamps, which
// took 208 of a cached user's 540 bytes), made by one object literal (its fields in the object
// itself; the driver's rows keep most of theirs in a second array), recurring values interned, and
// as id the key the row was read by (equal to it, and held by the cache anyway). They are typed as
// the tables' fact rows, so a column added to a table fails to compile until it is added here.
const orNull = <S extends string>(intern: Intern, value: S | null): S | null => (value === null ? null : intern(value));

const accountRow = (row: AccountFact, id: string, intern: Intern): AccountFact => ({
  id,
  name: row.name,
  kind: intern(row.kind),
});

const userRow = (row: UserFact, id: string, intern: Intern): UserFact => ({
  id,
  account_id: intern(row.account_id),
  account_kind: intern(row.account_kind),
  name: row.name,
  role: intern(row.role),
  status: intern(row.status),
  client_access_mode: orNull(intern, row.client_access_mode),
  add_clients: row.add_clients,
  practice_insights: row.practice_insights,
  manage_business: row.manage_business,
  create_expense_claims: row.create_expense_claims,
  publishing: intern(row.publishing),
  xpm_staff_id: row.xpm_staff_id,
});

const clientRow = (row: ClientFact, id: string, intern: Intern): ClientFact => ({
  id,
  account_id: intern(row.account_id),
  account_kind: intern(row.account_kind),
  name: row.name,
  ledger: intern(row.ledger),
});

const itemRow = (row: ItemFact, id: string, intern: Intern): ItemFact => ({
  id,
  account_id: intern(row.account_id),
  client_id: row.client_id,
  owner_user_id: row.owner_user_id,
  kind: intern(row.kind),
});

/** The links of a user with none: one set for all of them (a fact is never changed once stored). */
const NO_LINKS: Links = LinkSet.of([]);

const fact = <V>(spec: FactSpec<V>): FactSpec<V> => spec;
const byId = <T extends RecordTable, R>(table: T, compact: (row: FactRow<T>, id: string, intern: Intern) => R) =>
  fact({
    load: async (db, id, intern) => {
      const row = await findFactById(db, table, id);
      return row === undefined ? null : compact(row, id, intern);
    },
  });
// Held compactly (link-set.ts), a link takes 33–35 bytes where a pair took 65–69 in a Set, so these
// kinds hold three times the bound: 300,000 links at the default, about 10 MB where 100,000 pairs
// took about 7. A user's set also weighs three links more than it holds, for what an entry costs
// of its own (about 370 bytes with one link): in users of one link each the bound holds no more
// memory than it did in Sets. A user with none shares one empty set, and weighs one.
const links = (table: 'allocations' | 'ledger_access') =>
  fact<Links>({
    load: async (db, userId) => {
      const ids = await userClientIds(db, table, userId);
      return ids.length === 0 ? NO_LINKS : LinkSet.of(ids);
    },
    weigh: (set) => (set.size === 0 ? 1 : set.size + 3),
    bound: (max) => max * 3,
  });

export const FACTS = {
  user: byId('users', userRow),
  account: byId('accounts', accountRow),
  client: byId('clients', clientRow),
  item: byId('items', itemRow),
  allocations: links('allocations'),
  ledgerAccess: links('ledger_access'),
  /** An API token row by id (null when unknown); expiry and revocation are for the caller to check. */
  token: fact({
    load: async (db, id) => (await findToken(db, id)) ?? null,
    bound: (max) => Math.max(16, Math.floor(max / 10)),
  }),
  /** Every client of an account, in id order (the candidates of a list query). */
  accountClients: fact({
    load: async (db, accountId, intern) =>
      (await accountClients(db, accountId)).map(
        (client): ClientSummary => ({
          id: client.id,
          account_id: intern(client.account_id),
          ledger: intern(client.ledger),
        }),
      ),
    weigh: (list) => list.length,
  }),
  /** Every user of an account, in id order (the candidates of a reverse query and of a list of users). */
  accountUsers: fact({
    load: async (db, accountId, intern) =>
      (await accountUsers(db, accountId)).map((user) => userRow(user, user.id, intern)),
    weigh: (list) => list.length,
  }),
  /** Every item of an account, in id order (the candidates of a list of items). */
  accountItems: fact({
    load: async (db, accountId, intern) =>
      (await accountItems(db, accountId)).map((item) => itemRow(item, item.id, intern)),
    weigh: (list) => list.length,
  }),
};

export type FactName = keyof typeof FACTS;
export type FactValue<K extends FactName> = Awaited<ReturnType<(typeof FACTS)[K]['load']>>;

/** The facts a decision reads, from the cache or straight from the database. */
export type Facts = { [K in FactName]: (key: string) => Promise<FactValue<K>> };

interface FactTableSpec {
  /** The record type of the API's own changes to the table in the audit trail. */
  recordType: FactRecordType;
  /** The column a change notification names: the row's id, or its user_id (a user's links). */
  key: 'id' | 'user_id';
  /** The cached facts a change drops: the one under the change's key, or under its account. */
  drops: ReadonlyArray<readonly [FactName, 'key' | 'account']>;
}

export const FACT_TABLES = {
  accounts: {
    recordType: 'account',
    key: 'id',
    drops: [
      ['account', 'key'],
      ['accountClients', 'key'],
      ['accountUsers', 'key'],
      ['accountItems', 'key'],
    ],
  },
  users: {
    recordType: 'user',
    key: 'id',
    drops: [
      ['user', 'key'],
      ['accountUsers', 'account'],
    ],
  },
  clients: {
    recordType: 'client',
    key: 'id',
    drops: [
      ['client', 'key'],
      ['accountClients', 'account'],
    ],
  },
  items: {
    recordType: 'item',
    key: 'id',
    drops: [
      ['item', 'key'],
      ['accountItems', 'account'],
    ],
  },
  allocations: { recordType: 'allocation', key: 'user_id', drops: [['allocations', 'key']] },
  ledger_access: { recordType: 'ledger_access', key: 'user_id', drops: [['ledgerAccess', 'key']] },
  api_tokens: { recordType: 'token', key: 'id', drops: [['token', 'key']] },
} as const satisfies Record<string, FactTableSpec>;

/** The tables whose changes the feed tells of (the database's own table names). */
export type FactTable = keyof typeof FACT_TABLES;

// Every audited record type is a change of some fact table: a new one fails to compile until registered.
type Registered = (typeof FACT_TABLES)[FactTable]['recordType'];
const everyRecordType: FactRecordType extends Registered ? true : never = true;
void everyRecordType;

// Ids may contain ':' but never '/', so '/' keeps the parts apart.
export const FACT_SEPARATOR = '/';

/**
 * A change as the feed tells of it (db/migrations/2026-11-25T0200_fact_notification_transaction.ts):
 * "<table>/<key>/<account_id>/<xid>", the key being the row's user_id or else its id. The
 * transaction part is left out where the change is told by the service itself (its own writes,
 * to this process and its fellow workers).
 */
export const factChange = (table: FactTable, key: string, accountId: string): string =>
  [table, key, accountId].join(FACT_SEPARATOR);

const TABLE_OF = Object.fromEntries(
  Object.entries(FACT_TABLES).map(([table, spec]) => [spec.recordType, table]),
) as Record<FactRecordType, FactTable>;

/** The change an audited change is to the fact cache, as the feed would tell of it. */
export function changeOf(entry: AuditDraft): string {
  if (!Object.hasOwn(TABLE_OF, entry.record_type)) throw new Error(`${entry.record_type} is no change of a fact table`);
  const table = TABLE_OF[entry.record_type as FactRecordType];
  const key = FACT_TABLES[table].key === 'user_id' ? (entry.user_id ?? '') : entry.record_id;
  // An account's (and a token's) own id stands for its account, as in the feed.
  return factChange(table, key, entry.account_id ?? entry.record_id);
}

/** The cache entries a change drops, by fact; null for a change of no known table (then drop everything). */
export function dropsOf(table: string, key: string, accountId: string): Array<[FactName, string]> | null {
  if (!Object.hasOwn(FACT_TABLES, table)) return null;
  return FACT_TABLES[table as FactTable].drops.map(([name, by]) => [name, by === 'key' ? key : accountId]);
}
