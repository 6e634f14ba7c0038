// What the facts and token APIs refuse whatever the record: text PostgreSQL cannot store (NUL,
// unpaired surrogates) in any stored string, the ids "." and "..", and cursors a list did not give
// out. Each is a 400 naming the field, and changes nothing.
import t from 'tap';
import { auditRows, contextApp, errorOf, seedPractice } from '../helpers/context.ts';

t.test('given a practice written through the context API', async (t) => {
  const { database, admin } = await contextApp(t);
  await seedPractice(admin);
  const auditCount = async () => (await auditRows(database.db)).length;

  const unstorable: Array<[string, string]> = [
    ['a NUL', 'bad\u0000name'],
    ['an unpaired surrogate', 'bad\ud800name'],
  ];
  for (const [what, text] of unstorable) {
    const writes: Array<[string, () => ReturnType<typeof admin.put>, string]> = [
      ['an account name', () => admin.put('/v1/accounts/nul-acct', { kind: 'practice', name: text }), 'name'],
      ['a user name', () => admin.put('/v1/accounts/p1/users/nul-user', { name: text, role: 'standard' }), 'name'],
      ['a user patch name', () => admin.patch('/v1/accounts/p1/users/p1-std', { name: text }), 'name'],
      [
        'an xpm_staff_id',
        () => admin.put('/v1/accounts/p1/users/nul-user', { name: 'N', role: 'standard', xpm_staff_id: text }),
        'xpm_staff_id',
      ],
      [
        'a patched xpm_staff_id',
        () => admin.patch('/v1/accounts/p1/users/p1-std', { xpm_staff_id: text }),
        'xpm_staff_id',
      ],
      ['a client name', () => admin.put('/v1/accounts/p1/clients/nul-client', { name: text }), 'name'],
      [
        'a synced user name',
        () =>
          admin.post('/v1/accounts/p1/sync/users', {
            records: [
              { id: 'ok-user', name: 'Fine', role: 'standard' },
              { id: 'nul-user', name: text, role: 'standard' },
            ],
          }),
        'records[1].name',
      ],
      [
        'a synced xpm_staff_id',
        () =>
          admin.post('/v1/accounts/p1/sync/users', {
            records: [{ id: 'nul-user', name: 'N', role: 'standard', xpm_staff_id: text }],
          }),
        'records[0].xpm_staff_id',
      ],
      [
        'a synced client name',
        () => admin.post('/v1/accounts/p1/sync/clients', { records: [{ id: 'nul-client', name: text }] }),
        'records[0].name',
      ],
      ['a token name', () => admin.post('/v1/tokens', { name: text, scopes: ['decide'] }), 'name'],
    ];
    for (const [field, write, named] of writes) {
      t.test(`when ${field} holds ${what}, then 400 names ${named} and nothing is written`, async (t) => {
        const before = await auditCount();
        const response = await write();
        t.equal(response.statusCode, 400);
        t.match(errorOf(response), {
          code: 'invalid_request',
          message: /must not contain NUL \(U\+0000\) or an unpaired surrogate/,
          details: { field: named },
        });
        t.equal(await auditCount(), before, 'no audit entry');
      });
    }
  }

  t.test('when filters of the decision log and the audit trail hold a NUL, then 400 names them', async (t) => {
    for (const url of [
      '/v1/decisions?token_id=a%00b',
      '/v1/decisions?policy_revision=a%00b',
      '/v1/audit?token_id=a%00b',
    ]) {
      const response = await admin.get(url);
      t.equal(response.statusCode, 400, url);
      t.match(errorOf(response), { code: 'invalid_request', details: { field: /^(token_id|policy_revision)$/ } }, url);
    }
  });

  t.test('when the text is only unusual (an emoji, a tab, accents), then it is stored as sent', async (t) => {
    const response = await admin.put('/v1/accounts/p1/clients/fancy', { name: 'Café 😀\tLtd' });
    t.equal(response.statusCode, 201);
    t.equal((await admin.get('/v1/accounts/p1/clients/fancy')).json().name, 'Café 😀\tLtd');
  });

  for (const id of ['.', '..']) {
    const places: Array<[string, () => ReturnType<typeof admin.put>, string]> = [
      [
        'a synced user id',
        () => admin.post('/v1/accounts/p1/sync/users', { records: [{ id, name: 'Dot', role: 'standard' }] }),
        'records[0].id',
      ],
      [
        'a synced client id',
        () => admin.post('/v1/accounts/p1/sync/clients', { records: [{ id, name: 'Dot' }] }),
        'records[0].id',
      ],
      [
        'a synced item id',
        () => admin.post('/v1/accounts/p1/sync/items', { records: [{ id, kind: 'invoice', owner_user_id: null }] }),
        'records[0].id',
      ],
      [
        'an item owner',
        () => admin.put('/v1/accounts/p1/items/dotted', { kind: 'invoice', owner_user_id: id }),
        'owner_user_id',
      ],
      [
        'an item client',
        () => admin.put('/v1/accounts/p1/items/dotted', { kind: 'invoice', owner_user_id: null, client_id: id }),
        'client_id',
      ],
      [
        'an allocation',
        () => admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme', id] }),
        'client_ids[1]',
      ],
      [
        'a synced pair',
        () => admin.post('/v1/accounts/p1/sync/allocations', { records: [{ user_id: id, client_id: 'p1-acme' }] }),
        'records[0].user_id',
      ],
      [
        'a decision subject',
        () =>
          admin.post('/v1/decide', {
            subject: { id },
            action: 'client.view',
            resource: { type: 'client', id: 'p1-acme' },
          }),
        'subject.id',
      ],
      [
        'a decision resource',
        () =>
          admin.post('/v1/decide', {
            subject: { id: 'p1-std' },
            action: 'client.view',
            resource: { type: 'client', id },
          }),
        'resource.id',
      ],
      [
        'a list query subject',
        () => admin.post('/v1/resources/query', { subject: { id }, action: 'client.view', resource_type: 'client' }),
        'subject.id',
      ],
      ['a decision log filter', () => admin.get(`/v1/decisions?subject_id=${id}`), 'subject_id'],
      ['an audit filter', () => admin.get(`/v1/audit?record_id=${id}`), 'record_id'],
    ];
    for (const [place, send, field] of places) {
      t.test(`when ${place} is "${id}", then 400 names ${field} and nothing is written`, async (t) => {
        const before = await auditCount();
        const response = await send();
        t.equal(response.statusCode, 400, response.body);
        t.match(errorOf(response), { code: 'invalid_request', message: /not "\." or "\.\."/, details: { field } });
        t.equal(await auditCount(), before, 'no audit entry');
      });
    }
  }

  t.test('when an id merely holds dots, then it is an id like any other', async (t) => {
    t.equal((await admin.put('/v1/accounts/p1/clients/...', { name: 'Three dots' })).statusCode, 201);
    t.equal((await admin.put('/v1/accounts/p1/clients/a.b', { name: 'Dotted' })).statusCode, 201);
  });

  t.test('when a list is given a cursor it did not give out, then 400 invalid_cursor, not a page', async (t) => {
    const lists = [
      '/v1/accounts',
      '/v1/accounts/p1/users',
      '/v1/accounts/p1/clients',
      '/v1/accounts/p1/items',
      '/v1/audit',
      '/v1/decisions',
    ];
    const made = [
      'Zm9v', // base64url of "foo": an id, as cursors once were
      'enp6', // "zzz": past every id
      Buffer.from('2030-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000').toString('base64url'),
      Buffer.from(JSON.stringify(['2030-01-01T00:00:00.000Z', 1])).toString('base64url'),
      'garbage-cursor_123',
    ];
    for (const list of lists) {
      for (const cursor of made) {
        const response = await admin.get(`${list}?cursor=${cursor}`);
        t.equal(response.statusCode, 400, `${list} ${cursor}`);
        t.match(errorOf(response), { code: 'invalid_cursor', details: { field: 'cursor' } });
      }
    }
    const users = await admin.get('/v1/accounts/p1/users?limit=1');
    const cursor = users.json().next_cursor as string;
    t.equal(
      (await admin.get(`/v1/accounts/p1/users?limit=1&cursor=${cursor}`)).statusCode,
      200,
      'its own cursor pages on',
    );
    t.equal(
      errorOf(await admin.get(`/v1/accounts/p1/clients?cursor=${cursor}`)).code,
      'invalid_cursor',
      "another list's cursor is refused",
    );
    t.equal(
      errorOf(await admin.get(`/v1/accounts/p1/users?cursor=${cursor.slice(0, -2)}`)).code,
      'invalid_cursor',
      'a cut cursor is refused',
    );
  });

  t.test('when a list is paged with the cursors it gives, then every record comes once', async (t) => {
    const all = (await admin.get('/v1/accounts/p1/users?limit=1000')).json().users.map((u: { id: string }) => u.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (
        await admin.get(`/v1/accounts/p1/users?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      ).json() as { users: Array<{ id: string }>; next_cursor: string | null };
      seen.push(...page.users.map((u) => u.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    t.same(seen, all);
  });
});
