// Allocations and ledger access of one user: PUT replaces the set, references stay inside the
// account, each pair added or removed is an audit entry, and decisions follow at once.
import t from 'tap';
import { api, auditRows, contextApp, decide, errorOf, seedPractice, warm, written } from '../helpers/context.ts';
import { makeToken } from '../helpers/fixtures.ts';

for (const [segment, recordType] of [
  ['allocations', 'allocation'],
  ['ledger-access', 'ledger_access'],
] as const) {
  t.test(`given a practice and its ${segment}`, async (t) => {
    const { app, database, admin } = await contextApp(t, { silentFeed: true });
    const db = database.db;
    await seedPractice(admin, 'p1');
    await seedPractice(admin, 'p2');
    const url = (user = 'p1-std', account = 'p1') => `/v1/accounts/${account}/users/${user}/${segment}`;

    t.test('when a set is PUT, then GET reads it back sorted, with duplicates counted once', async (t) => {
      const response = await admin.put(url(), { client_ids: ['p1-hooli', 'p1-acme', 'p1-hooli'] });
      t.equal(response.statusCode, 200);
      t.same(written(response), { client_ids: ['p1-acme', 'p1-hooli'] });
      t.same((await admin.get(url())).json(), { client_ids: ['p1-acme', 'p1-hooli'] });
    });

    t.test(
      'when another set is PUT, then it replaces the old one and each pair added or removed is an audit entry',
      async (t) => {
        const before = (await auditRows(db)).length;
        t.same(written(await admin.put(url(), { client_ids: ['p1-globex', 'p1-acme'] })), {
          client_ids: ['p1-acme', 'p1-globex'],
        });
        const entries = (await auditRows(db)).slice(before);
        t.same(
          entries.map((e) => [e.record_type, e.record_id, e.change, e.user_id, e.client_id]),
          [
            [recordType, 'p1-std/p1-hooli', 'delete', 'p1-std', 'p1-hooli'],
            [recordType, 'p1-std/p1-globex', 'create', 'p1-std', 'p1-globex'],
          ],
        );
        t.same(entries[1]?.after, { user_id: 'p1-std', client_id: 'p1-globex' });
        t.equal(entries[1]?.before, null);
      },
    );

    t.test('when the same set is PUT again, then nothing is recorded', async (t) => {
      const before = (await auditRows(db)).length;
      t.equal((await admin.put(url(), { client_ids: ['p1-acme', 'p1-globex'] })).statusCode, 200);
      t.equal((await auditRows(db)).length, before);
    });

    const refusals: Array<[string, () => Promise<{ statusCode: number; body: string }>, number, string, string]> = [
      [
        'a client of another account is listed',
        () => admin.put(url(), { client_ids: ['p1-acme', 'p2-acme'] }),
        400,
        'invalid_reference',
        'client_ids[1]',
      ],
      [
        'an unknown client is listed',
        () => admin.put(url(), { client_ids: ['ghost'] }),
        400,
        'invalid_reference',
        'client_ids[0]',
      ],
      [
        'a client id is malformed',
        () => admin.put(url(), { client_ids: ['p1-acme', 'no spaces'] }),
        400,
        'invalid_request',
        'client_ids[1]',
      ],
      ['client_ids is missing', () => admin.put(url(), { clients: [] }), 400, 'invalid_request', 'client_ids'],
      ['the user is unknown', () => admin.put(url('ghost'), { client_ids: [] }), 404, 'user_not_found', ''],
      ['the user is of another account', () => admin.put(url('p2-std'), { client_ids: [] }), 404, 'user_not_found', ''],
      [
        'the account is unknown',
        () => admin.put(url('p1-std', 'nowhere'), { client_ids: [] }),
        404,
        'account_not_found',
        '',
      ],
    ];
    for (const [when, send, status, code, field] of refusals) {
      t.test(
        `when ${when}, then ${status} ${code}${field ? ` naming ${field}` : ''}, and the set is unchanged`,
        async (t) => {
          const entries = (await auditRows(db)).length;
          const response = await send();
          t.equal(response.statusCode, status, response.body);
          t.equal(errorOf(response as never).code, code);
          if (field) t.equal(errorOf(response as never).details?.field, field);
          t.same((await admin.get(url())).json(), { client_ids: ['p1-acme', 'p1-globex'] });
          t.equal((await auditRows(db)).length, entries);
        },
      );
    }

    t.test(
      'when the set is deleted, then it is empty, each pair removed is recorded, and a second delete is still 204',
      async (t) => {
        const before = (await auditRows(db)).length;
        t.equal((await admin.del(url())).statusCode, 204);
        t.same((await admin.get(url())).json(), { client_ids: [] });
        t.same(
          (await auditRows(db)).slice(before).map((e) => `${e.record_id}:${e.change}`),
          ['p1-std/p1-acme:delete', 'p1-std/p1-globex:delete'],
        );
        t.equal((await admin.del(url())).statusCode, 204);
        t.equal((await admin.del(url('ghost'))).statusCode, 404);
      },
    );

    t.test(
      'when access is given and taken, then the very next decision follows (warm cache, no change feed)',
      async (t) => {
        // p1-lee is ledger_selected: a Xero client needs both an allocation and ledger access.
        const view = () => decide(app, 'p1-lee', 'client.view', { type: 'client', id: 'p1-acme' });
        const other = segment === 'allocations' ? 'ledger-access' : 'allocations';
        await admin.put(`/v1/accounts/p1/users/p1-lee/${other}`, { client_ids: ['p1-acme'] });
        const missing = segment === 'allocations' ? 'client_not_allocated' : 'ledger_access_required';
        t.same((await warm(t, app, view)).codes, [missing]);
        await admin.put(url('p1-lee'), { client_ids: ['p1-acme'] });
        t.equal((await view()).allow, true, 'given');
        await admin.del(url('p1-lee'));
        t.same((await view()).codes, [missing], 'taken');
      },
    );

    t.test(
      'when operators ask who gave a user access to a client, then the audit answers with the token and the time',
      async (t) => {
        const granter = await makeToken(db, ['admin']);
        const granterId = granter.split('_')[1];
        t.equal((await api(app, granter).put(url('p1-admin'), { client_ids: ['p1-hooli'] })).statusCode, 200);
        const answer = await admin.get(`/v1/audit?user_id=p1-admin&client_id=p1-hooli&record_type=${recordType}`);
        t.equal(answer.statusCode, 200);
        const entries = answer.json().entries as Array<Record<string, unknown>>;
        t.equal(entries.length, 1);
        t.match(entries[0], {
          change: 'create',
          token_id: granterId,
          account_id: 'p1',
          record_id: 'p1-admin/p1-hooli',
          at: String,
        });
      },
    );
  });
}
