// The schema itself refuses rows that would make a decision meaningless.
import t from 'tap';
import { sql } from 'kysely';
import { migratedDatabase, TEST_ENGINE } from '../helpers/database.ts';

t.test(`given the ${TEST_ENGINE} schema`, async (t) => {
  const { db } = await migratedDatabase(t);
  await db
    .insertInto('accounts')
    .values([
      { id: 'p1', name: 'Practice', kind: 'practice' },
      { id: 'p2', name: 'Other practice', kind: 'practice' },
      { id: 'b1', name: 'Business', kind: 'business' },
    ])
    .execute();
  const user = (id: string, account_id: string, account_kind: 'practice' | 'business', role: string) => ({
    id,
    account_id,
    account_kind,
    name: id,
    role: role as 'standard',
    client_access_mode: null,
    xpm_staff_id: null,
  });
  await db
    .insertInto('users')
    .values([
      user('u1', 'p1', 'practice', 'standard'),
      user('u2', 'p2', 'practice', 'client_admin'),
      user('b-admin', 'b1', 'business', 'business_admin'),
    ])
    .execute();
  await db
    .insertInto('clients')
    .values([
      { id: 'c1', account_id: 'p1', account_kind: 'practice', name: 'C1', ledger: 'xero' },
      { id: 'c2', account_id: 'p2', account_kind: 'practice', name: 'C2' },
    ])
    .execute();
  await db.insertInto('allocations').values({ account_id: 'p1', user_id: 'u1', client_id: 'c1' }).execute();
  await db.insertInto('ledger_access').values({ account_id: 'p1', user_id: 'u1', client_id: 'c1' }).execute();
  await db
    .insertInto('items')
    .values([
      { id: 'i1', account_id: 'p1', client_id: 'c1', owner_user_id: 'u1', kind: 'invoice' },
      { id: 'i2', account_id: 'p1', client_id: null, owner_user_id: 'u1', kind: 'expense_claim' },
    ])
    .execute();

  const refused: Array<[string, () => Promise<unknown>, RegExp]> = [
    [
      'a practice role in a business account',
      () =>
        db
          .insertInto('users')
          .values(user('x', 'b1', 'business', 'practice_admin'))
          .execute(),
      /users_role_matches_account_kind/,
    ],
    [
      'a business role in a practice account',
      () =>
        db
          .insertInto('users')
          .values(user('x', 'p1', 'practice', 'user_admin'))
          .execute(),
      /users_role_matches_account_kind/,
    ],
    [
      'a user claiming the wrong kind for its account',
      () =>
        db
          .insertInto('users')
          .values(user('x', 'b1', 'practice', 'standard'))
          .execute(),
      /users_account_fkey/,
    ],
    [
      'an unknown role',
      () =>
        db
          .insertInto('users')
          .values(user('x', 'p1', 'practice', 'owner'))
          .execute(),
      /users_role_matches_account_kind/,
    ],
    [
      'an unknown status',
      () =>
        db
          .insertInto('users')
          .values({ ...user('x', 'p1', 'practice', 'standard'), status: 'gone' as 'active' })
          .execute(),
      /check constraint/,
    ],
    [
      'an unknown client access mode',
      () =>
        db
          .insertInto('users')
          .values({ ...user('x', 'p1', 'practice', 'standard'), client_access_mode: 'some' as 'all' })
          .execute(),
      /check constraint/,
    ],
    [
      'a client access mode on a business user',
      () =>
        db
          .insertInto('users')
          .values({ ...user('x', 'b1', 'business', 'standard'), client_access_mode: 'all' })
          .execute(),
      /users_client_access_mode_practice_only/,
    ],
    [
      'an unknown publishing permission',
      () =>
        db
          .insertInto('users')
          .values({ ...user('x', 'p1', 'practice', 'standard'), publishing: 'some' as 'all' })
          .execute(),
      /check constraint/,
    ],
    [
      'an id outside the id pattern',
      () => db.insertInto('accounts').values({ id: 'has space', name: 'x', kind: 'practice' }).execute(),
      /ext_id/,
    ],
    [
      'an unknown account kind',
      () =>
        db
          .insertInto('accounts')
          .values({ id: 'x', name: 'x', kind: 'charity' as 'practice' })
          .execute(),
      /check constraint/,
    ],
    [
      'a client in a business account',
      () =>
        db
          .insertInto('clients')
          .values({ id: 'cx', account_id: 'b1', account_kind: 'business' as 'practice', name: 'x' })
          .execute(),
      /check constraint/,
    ],
    [
      'an unknown ledger',
      () =>
        db
          .insertInto('clients')
          .values({ id: 'cx', account_id: 'p1', account_kind: 'practice', name: 'x', ledger: 'sage' as 'xero' })
          .execute(),
      /check constraint/,
    ],
    [
      'an allocation to another account’s client',
      () => db.insertInto('allocations').values({ account_id: 'p1', user_id: 'u1', client_id: 'c2' }).execute(),
      /allocations_client_fkey/,
    ],
    [
      'ledger access for another account’s user',
      () => db.insertInto('ledger_access').values({ account_id: 'p1', user_id: 'u2', client_id: 'c1' }).execute(),
      /ledger_access_user_fkey/,
    ],
    [
      'an item of another account’s client',
      () =>
        db
          .insertInto('items')
          .values({ id: 'ix', account_id: 'p1', client_id: 'c2', owner_user_id: 'u1', kind: 'receipt' })
          .execute(),
      /items_client_fkey/,
    ],
    [
      'an item owned by another account’s user',
      () =>
        db
          .insertInto('items')
          .values({ id: 'ix', account_id: 'p1', client_id: null, owner_user_id: 'u2', kind: 'receipt' })
          .execute(),
      /items_owner_fkey/,
    ],
    [
      'an unknown item kind',
      () =>
        db
          .insertInto('items')
          .values({ id: 'ix', account_id: 'p1', client_id: null, owner_user_id: 'u1', kind: 'memo' as 'receipt' })
          .execute(),
      /check constraint/,
    ],
    [
      'changing the kind of an account that has users',
      () => db.updateTable('accounts').set({ kind: 'business' }).where('id', '=', 'p1').execute(),
      /foreign key/,
    ],
  ];
  for (const [what, write, error] of refused) {
    await t.rejects(write(), { message: error }, `refuses ${what}`);
  }

  t.test('when a client is deleted, then its allocations, ledger access and items go with it', async (t) => {
    await db.deleteFrom('clients').where('id', '=', 'c1').execute();
    t.same(await db.selectFrom('allocations').selectAll().execute(), []);
    t.same(await db.selectFrom('ledger_access').selectAll().execute(), []);
    t.same(
      (await db.selectFrom('items').select('id').execute()).map((r) => r.id),
      ['i2'],
    );
  });

  t.test('when a user is deleted, then their documents stay with no owner', async (t) => {
    await db.deleteFrom('users').where('id', '=', 'u1').execute();
    const item = await db.selectFrom('items').selectAll().where('id', '=', 'i2').executeTakeFirstOrThrow();
    t.equal(item.owner_user_id, null);
  });

  t.test('when an account is deleted, then everything in it goes', async (t) => {
    await db.deleteFrom('accounts').where('id', '=', 'p1').execute();
    const left = await sql<{ n: number }>`select (select count(*) from users where account_id = 'p1')
      + (select count(*) from items where account_id = 'p1') + (select count(*) from clients where account_id = 'p1') as n`.execute(
      db,
    );
    t.equal(Number(left.rows[0]?.n), 0);
  });
});
