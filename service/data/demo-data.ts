// A small demo practice and business, written into an empty embedded database so that
// `make run` can be tried at once. Never touches a database that already holds accounts.
import type { FastifyBaseLogger } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database, NewUser } from './schema.ts';

const PRACTICE = 'demo-practice';
const BUSINESS = 'demo-business';

type DemoUser = Omit<NewUser, 'account_id' | 'account_kind' | 'client_access_mode' | 'xpm_staff_id'> &
  Partial<Pick<NewUser, 'client_access_mode' | 'xpm_staff_id'>>;

const practiceUsers: DemoUser[] = [
  { id: 'ada', name: 'Ada (practice admin)', role: 'practice_admin', xpm_staff_id: 'xpm-1' },
  { id: 'cal', name: 'Cal (client admin)', role: 'client_admin' },
  // Limited by the practice admin to two clients: SPEC §2.4a keeps her from widening that.
  { id: 'ros', name: 'Ros (client admin, selected clients)', role: 'client_admin', client_access_mode: 'selected' },
  {
    id: 'sam',
    name: 'Sam (standard, selected clients)',
    role: 'standard',
    publishing: 'expense_claims_only',
    create_expense_claims: true,
  },
  {
    id: 'lee',
    name: 'Lee (standard, Xero permissions + selected)',
    role: 'standard',
    client_access_mode: 'ledger_selected',
    xpm_staff_id: 'xpm-2',
  },
  {
    id: 'max',
    name: 'Max (standard, Xero permissions + all)',
    role: 'standard',
    client_access_mode: 'ledger_all',
    manage_business: true,
  },
  { id: 'eve', name: 'Eve (expense approver)', role: 'expense_approver' },
  { id: 'sus', name: 'Sus (suspended)', role: 'standard', status: 'suspended', client_access_mode: 'all' },
];

const businessUsers: DemoUser[] = [
  { id: 'bob', name: 'Bob (business admin)', role: 'business_admin' },
  { id: 'uma', name: 'Uma (user admin)', role: 'user_admin' },
  { id: 'stu', name: 'Stu (standard)', role: 'standard', publishing: 'all' },
  { id: 'exa', name: 'Exa (expense approver)', role: 'expense_approver' },
];

const clients = [
  { id: 'acme', name: 'Acme Ltd', ledger: 'xero' },
  { id: 'globex', name: 'Globex', ledger: 'xero' },
  { id: 'initech', name: 'Initech', ledger: 'myob' },
  { id: 'umbrella', name: 'Umbrella', ledger: 'quickbooks' },
  { id: 'hooli', name: 'Hooli', ledger: 'none' },
] as const;

export async function seedDemoData(db: Kysely<Database>, log: FastifyBaseLogger): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Workers starting together must not both seed.
    await sql`select pg_advisory_xact_lock(hashtext('clearance.demo_data'))`.execute(trx);
    const existing = await trx.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
    if (existing !== undefined) return;

    await trx
      .insertInto('accounts')
      .values([
        { id: PRACTICE, name: 'Demo Practice', kind: 'practice' },
        { id: BUSINESS, name: 'Demo Business', kind: 'business' },
      ])
      .execute();
    const withAccount =
      (accountId: string, kind: 'practice' | 'business') =>
      (user: DemoUser): NewUser => ({
        client_access_mode: null,
        xpm_staff_id: null,
        ...user,
        account_id: accountId,
        account_kind: kind,
      });
    await trx
      .insertInto('users')
      .values([
        ...practiceUsers.map(withAccount(PRACTICE, 'practice')),
        ...businessUsers.map(withAccount(BUSINESS, 'business')),
      ])
      .execute();
    await trx
      .insertInto('clients')
      .values(clients.map((c) => ({ ...c, account_id: PRACTICE, account_kind: 'practice' as const })))
      .execute();
    const pairs = (list: Array<[string, string]>) =>
      list.map(([user_id, client_id]) => ({ account_id: PRACTICE, user_id, client_id }));
    await trx
      .insertInto('allocations')
      .values(
        pairs([
          ['sam', 'acme'],
          ['sam', 'initech'],
          ['ros', 'acme'],
          ['ros', 'hooli'],
          ['lee', 'acme'],
          ['lee', 'globex'],
          ['lee', 'hooli'],
        ]),
      )
      .execute();
    await trx
      .insertInto('ledger_access')
      .values(
        pairs([
          ['lee', 'acme'],
          ['max', 'globex'],
        ]),
      )
      .execute();
    await trx
      .insertInto('items')
      .values([
        { id: 'acme-invoice-1', account_id: PRACTICE, client_id: 'acme', owner_user_id: 'sam', kind: 'invoice' },
        {
          id: 'practice-claim-sam',
          account_id: PRACTICE,
          client_id: null,
          owner_user_id: 'sam',
          kind: 'expense_claim',
        },
        { id: 'practice-receipt-sam', account_id: PRACTICE, client_id: null, owner_user_id: 'sam', kind: 'receipt' },
        {
          id: 'practice-claim-cal',
          account_id: PRACTICE,
          client_id: null,
          owner_user_id: 'cal',
          kind: 'expense_claim',
        },
        {
          id: 'business-claim-stu',
          account_id: BUSINESS,
          client_id: null,
          owner_user_id: 'stu',
          kind: 'expense_claim',
        },
        { id: 'business-invoice-uma', account_id: BUSINESS, client_id: null, owner_user_id: 'uma', kind: 'invoice' },
      ])
      .execute();
    log.info({ accounts: [PRACTICE, BUSINESS] }, 'seeded the empty database with demo data');
  });
}

/**
 * Whether the demo's example question can be asked here: its user (sam, of the demo practice) and
 * client (globex) exist. The start-up banner shows that example only then.
 */
export async function hasDemoExample(db: Kysely<Database>): Promise<boolean> {
  const [user, client] = await Promise.all([
    db.selectFrom('users').select('id').where('id', '=', 'sam').where('account_id', '=', PRACTICE).executeTakeFirst(),
    db
      .selectFrom('clients')
      .select('id')
      .where('id', '=', 'globex')
      .where('account_id', '=', PRACTICE)
      .executeTakeFirst(),
  ]);
  return user !== undefined && client !== undefined;
}
