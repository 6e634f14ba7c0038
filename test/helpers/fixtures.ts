// A data set that exercises every rule of SPEC §2, written straight into the database.
import type { Kysely } from 'kysely';
import type { Database, NewUser } from '../../service/data/schema.ts';
import { generateToken, hashSecret } from '../../service/domain/tokens.ts';
import { insertToken } from '../../service/data/tokens.ts';
import type { Scope } from '../../service/data/schema.ts';

type U = Partial<NewUser> & Pick<NewUser, 'id' | 'role'>;

const practiceUsers: U[] = [
  { id: 'pa', role: 'practice_admin', xpm_staff_id: 'x1' },
  { id: 'ca', role: 'client_admin' },
  { id: 'ca_sel', role: 'client_admin', client_access_mode: 'selected' },
  { id: 'std_sel', role: 'standard', create_expense_claims: true, publishing: 'expense_claims_only' },
  {
    id: 'std_all',
    role: 'standard',
    client_access_mode: 'all',
    add_clients: true,
    practice_insights: true,
    publishing: 'all',
    xpm_staff_id: 'x2',
  },
  { id: 'std_la', role: 'standard', client_access_mode: 'ledger_all' },
  { id: 'std_ls', role: 'standard', client_access_mode: 'ledger_selected' },
  { id: 'std_mb', role: 'standard', manage_business: true },
  { id: 'ea', role: 'expense_approver' },
  { id: 'sus', role: 'standard', status: 'suspended', client_access_mode: 'all' },
];
const businessUsers: U[] = [
  { id: 'ba', role: 'business_admin' },
  { id: 'ua', role: 'user_admin' },
  { id: 'bstd', role: 'standard' },
  { id: 'bea', role: 'expense_approver' },
];

export async function seedFixtures(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('accounts')
    .values([
      { id: 'p1', name: 'Practice One', kind: 'practice' },
      { id: 'p2', name: 'Practice Two', kind: 'practice' },
      { id: 'b1', name: 'Business One', kind: 'business' },
    ])
    .execute();
  const user =
    (account_id: string, account_kind: 'practice' | 'business') =>
    (u: U): NewUser => ({
      name: u.id,
      client_access_mode: null,
      xpm_staff_id: null,
      ...u,
      account_id,
      account_kind,
    });
  await db
    .insertInto('users')
    .values([
      ...practiceUsers.map(user('p1', 'practice')),
      user('p2', 'practice')({ id: 'pa2', role: 'practice_admin' }),
      ...businessUsers.map(user('b1', 'business')),
    ])
    .execute();
  await db
    .insertInto('clients')
    .values(
      [
        ...['c_xero', 'c_xero2', 'c_xero3'].map((id) => ({ id, ledger: 'xero' as const })),
        { id: 'c_myob', ledger: 'myob' as const },
        { id: 'c_qb', ledger: 'quickbooks' as const },
        { id: 'c_none', ledger: 'none' as const },
      ].map((c) => ({ ...c, name: c.id, account_id: 'p1', account_kind: 'practice' as const })),
    )
    .execute();
  await db
    .insertInto('clients')
    .values({ id: 'c_other', name: 'other', ledger: 'xero', account_id: 'p2', account_kind: 'practice' })
    .execute();
  const pairs = (list: Array<[string, string]>) =>
    list.map(([user_id, client_id]) => ({ account_id: 'p1', user_id, client_id }));
  await db
    .insertInto('allocations')
    .values(
      pairs([
        ['ca_sel', 'c_xero'],
        ['std_sel', 'c_myob'],
        ['std_sel', 'c_xero'],
        ['std_ls', 'c_xero'],
        ['std_ls', 'c_xero2'],
        ['std_ls', 'c_myob'],
      ]),
    )
    .execute();
  await db
    .insertInto('ledger_access')
    .values(
      pairs([
        ['std_la', 'c_xero'],
        ['std_ls', 'c_xero'],
      ]),
    )
    .execute();
  const item = (
    id: string,
    account_id: string,
    owner_user_id: string,
    kind: 'expense_claim' | 'receipt' | 'invoice',
    client_id: string | null = null,
  ) => ({ id, account_id, owner_user_id, kind, client_id });
  await db
    .insertInto('items')
    .values([
      item('i_client', 'p1', 'std_sel', 'invoice', 'c_xero'),
      item('i_client_qb', 'p1', 'std_sel', 'invoice', 'c_qb'),
      item('claim_std_sel', 'p1', 'std_sel', 'expense_claim'),
      item('receipt_std_sel', 'p1', 'std_sel', 'receipt'),
      item('claim_ca', 'p1', 'ca', 'expense_claim'),
      item('claim_std_mb', 'p1', 'std_mb', 'expense_claim'),
      item('invoice_std_all', 'p1', 'std_all', 'invoice'),
      item('i_other', 'p2', 'pa2', 'receipt'),
      item('b_claim_bstd', 'b1', 'bstd', 'expense_claim'),
      item('b_invoice_ua', 'b1', 'ua', 'invoice'),
    ])
    .execute();
}

/** Makes an API token with the given scopes; returns the bearer value. */
export async function makeToken(
  db: Kysely<Database>,
  scopes: Scope[],
  options: { expiresAt?: Date } = {},
): Promise<string> {
  const { id, secret, token } = generateToken();
  await insertToken(db, {
    id,
    name: `test ${scopes.join(',')}`,
    secretHash: hashSecret(secret),
    scopes,
    expiresAt: options.expiresAt ?? null,
  });
  return token;
}
