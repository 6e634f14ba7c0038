// SPEC §2.4a, limits on delegation, asked through POST /v1/decide (and batch) with facts in the
// database: the fixtures, plus restricted client admins written through the context API. Each
// escalation of issue 13 by a client admin restricted to selected clients is refused.
import t from 'tap';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

interface Answer {
  decision_id: string;
  allow: boolean;
  reasons: Array<{ code: string; message: string }>;
}

type Attributes = Record<string, unknown>;
const user = (id: string | undefined, attributes: Attributes = {}) => ({
  type: 'user',
  ...(id ? { id } : {}),
  attributes,
});

t.test('given the fixtures and restricted client admins written through the API', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide', 'admin', 'logs']);
  const headers = { authorization: `Bearer ${token}` };
  const put = async (url: string, payload: object) => {
    const response = await app.inject({ method: 'PUT', url: `/v1/accounts/p1${url}`, headers, payload });
    t.ok(response.statusCode < 300, `PUT ${url}: ${response.statusCode} ${response.body}`);
  };
  // ca_sel (fixtures): client admin, selected clients, allocated c_xero only, no book permissions.
  // ca_ls: client admin, Xero permissions + selected, allocated c_xero and c_xero2 but with Xero
  // access to c_xero only; may publish expense claims.
  await put('/users/ca_ls', {
    name: 'Cara',
    role: 'client_admin',
    client_access_mode: 'ledger_selected',
    permissions: { publishing: 'expense_claims_only' },
  });
  await put('/users/ca_ls/allocations', { client_ids: ['c_xero', 'c_xero2'] });
  await put('/users/ca_ls/ledger-access', { client_ids: ['c_xero'] });
  // ca_mb: client admin with manage_business, so it holds every own-books permission.
  await put('/users/ca_mb', { name: 'Mo', role: 'client_admin', permissions: { manage_business: true } });

  const ask = async (subject: string, action: string, resource: object): Promise<Answer> => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/decide',
      headers,
      payload: { subject: { id: subject }, action, resource },
    });
    t.equal(response.statusCode, 200, `${subject} ${action}: status`);
    return response.json();
  };
  const codes = (answer: Answer) => answer.reasons.map((r) => r.code);
  const refusedWith = async (subject: string, action: string, resource: object, expected: string[]) => {
    const answer = await ask(subject, action, resource);
    t.equal(answer.allow, false, `${subject} ${action} ${JSON.stringify(resource)}: refused`);
    t.same(codes(answer), expected, `${subject} ${action} ${JSON.stringify(resource)}: ${expected.join(', ')}`);
    return answer;
  };
  const allowed = async (subject: string, action: string, resource: object) => {
    const answer = await ask(subject, action, resource);
    t.equal(
      answer.allow,
      true,
      `${subject} ${action} ${JSON.stringify(resource)}: allowed (${JSON.stringify(answer.reasons)})`,
    );
    return answer;
  };
  const exceeding = (answer: Answer) =>
    answer.reasons.filter((r) => r.code === 'grant_exceeds_own_access').map((r) => r.message);

  t.test('the escalations of issue 13 by a client admin restricted to selected clients', async (t) => {
    t.test('when it lifts its own restriction with user.update, then self_action_not_allowed', async () => {
      await refusedWith('ca_sel', 'user.update', user('ca_sel', { client_access_mode: 'all' }), [
        'self_action_not_allowed',
      ]);
    });
    t.test(
      'when it allocates a colleague a client it cannot see itself, then grant_exceeds_own_access names the client',
      async (t) => {
        const answer = await refusedWith('ca_sel', 'user.client_access.edit', user('std_sel', { client_id: 'c_qb' }), [
          'grant_exceeds_own_access',
        ]);
        t.same(exceeding(answer), ['may not allocate client c_qb: it is not allocated to the admin']);
        await allowed('ca_sel', 'user.client_access.edit', user('std_sel', { client_id: 'c_xero' }));
      },
    );
    t.test("when it sets a colleague's mode to all, then grant_exceeds_own_access names the modes", async (t) => {
      const answer = await refusedWith('ca_sel', 'user.update', user('std_sel', { client_access_mode: 'all' }), [
        'grant_exceeds_own_access',
      ]);
      t.same(exceeding(answer), ["may not give client access mode all: it is broader than the admin's own (selected)"]);
    });
    t.test(
      'when it creates a client admin with the default mode, then grant_exceeds_own_access; within its own mode it may',
      async () => {
        await refusedWith('ca_sel', 'user.create', user(undefined, { role: 'client_admin' }), [
          'grant_exceeds_own_access',
        ]);
        await allowed(
          'ca_sel',
          'user.create',
          user(undefined, { role: 'client_admin', client_access_mode: 'selected' }),
        );
      },
    );
    t.test(
      'when it links itself to another staff member through user.profile.edit, then invalid_input names the field',
      async (t) => {
        const answer = await refusedWith('ca_sel', 'user.profile.edit', user('ca_sel', { xpm_staff_id: 'x2' }), [
          'invalid_input',
        ]);
        t.same(
          answer.reasons[0]?.message,
          'resource.attributes.xpm_staff_id cannot be proposed with user.profile.edit (ask user.xpm_link.edit)',
        );
        await refusedWith('ca_sel', 'user.xpm_link.edit', user('ca_sel', { xpm_staff_id: 'x2' }), [
          'self_action_not_allowed',
        ]);
      },
    );
    t.test(
      'when the practice admin allocates it the client, then the same allocation is allowed on the next decision',
      async () => {
        await put('/users/ca_sel/allocations', { client_ids: ['c_xero', 'c_qb'] });
        await allowed('ca_sel', 'user.client_access.edit', user('std_sel', { client_id: 'c_qb' }));
        await put('/users/ca_sel/allocations', { client_ids: ['c_xero'] });
        await refusedWith('ca_sel', 'user.client_access.edit', user('std_sel', { client_id: 'c_qb' }), [
          'grant_exceeds_own_access',
        ]);
      },
    );
  });

  t.test('proposed values', async (t) => {
    t.test('when a proposed value is wrongly typed, then invalid_input names the field', async (t) => {
      const answer = await refusedWith(
        'pa',
        'user.update',
        user('std_sel', { client_access_mode: 'everything', status: 3 }),
        ['invalid_input', 'invalid_input'],
      );
      t.same(
        answer.reasons.map((r) => r.message),
        [
          'resource.attributes.client_access_mode must be all, selected, ledger_all, ledger_selected or null',
          'resource.attributes.status must be active, suspended or null',
        ],
      );
    });
    t.test('when a proposed value equals the one the target has, then it is not a change', async () => {
      await allowed(
        'ca_sel',
        'user.update',
        user('ca_sel', {
          client_access_mode: 'selected',
          role: 'client_admin',
          status: 'active',
          permissions: { manage_business: false },
        }),
      );
    });
    t.test(
      'when a proposal breaks several rules, then every refusal is listed, sorted by code then message',
      async (t) => {
        const answer = await refusedWith(
          'ca_sel',
          'user.update',
          user('std_ls', {
            role: 'expense_approver',
            client_access_mode: 'ledger_all',
            permissions: { create_expense_claims: true, manage_business: true },
          }),
          ['grant_exceeds_own_access', 'grant_exceeds_own_access', 'grant_exceeds_own_access', 'role_phased_out'],
        );
        t.same(exceeding(answer), [
          "may not give client access mode ledger_all: it is broader than the admin's own (selected)",
          'may not grant create_expense_claims: the admin does not hold it',
          'may not grant manage_business: the admin does not hold it',
        ]);
      },
    );
  });

  t.test("nothing on oneself that widens one's own access", async (t) => {
    t.test(
      'when anyone, top admin included, changes their own status, mode or permissions, then self_action_not_allowed',
      async () => {
        await refusedWith('pa', 'user.update', user('pa', { status: 'suspended' }), ['self_action_not_allowed']);
        await refusedWith('pa', 'user.update', user('pa', { permissions: { manage_business: true } }), [
          'self_action_not_allowed',
        ]);
        await refusedWith('ca', 'user.update', user('ca', { client_access_mode: 'ledger_all' }), [
          'self_action_not_allowed',
        ]);
        await refusedWith('std_sel', 'user.update', user('std_sel', { permissions: { publishing: 'all' } }), [
          'role_not_permitted',
          'self_action_not_allowed',
        ]);
        await refusedWith('ca_sel', 'user.client_access.edit', user('ca_sel', { client_id: 'c_xero' }), [
          'self_action_not_allowed',
        ]);
      },
    );
    t.test('when the top admin sets its own link, then it is allowed, and nobody else may', async () => {
      await allowed('pa', 'user.xpm_link.edit', user('pa', { xpm_staff_id: 'x9' }));
      await allowed('pa', 'user.update', user('pa', { xpm_staff_id: null }));
      await refusedWith('std_all', 'user.xpm_link.edit', user('std_all', { xpm_staff_id: 'x1' }), [
        'role_not_permitted',
        'self_action_not_allowed',
      ]);
      await refusedWith('ca', 'user.update', user('ca', { xpm_staff_id: 'x1' }), ['self_action_not_allowed']);
    });
    t.test('when a user edits only profile fields of their own, then it stays user.profile.edit', async () => {
      await allowed('std_sel', 'user.profile.edit', user('std_sel', { name: 'Sam S.' }));
    });
  });

  t.test('no granting what one does not have', async (t) => {
    t.test(
      'when a client admin without Xero access allocates that client, then grant_exceeds_own_access says so',
      async (t) => {
        const answer = await refusedWith(
          'ca_ls',
          'user.client_access.edit',
          user('std_sel', { client_id: 'c_xero2' }),
          ['grant_exceeds_own_access'],
        );
        t.same(exceeding(answer), ['may not allocate client c_xero2: the admin has no Xero access to it']);
        await allowed('ca_ls', 'user.client_access.edit', user('std_sel', { client_id: 'c_xero' }));
      },
    );
    t.test("when a mode is covered by the admin's own, then it is allowed; a broader one is not", async () => {
      await allowed('ca_ls', 'user.update', user('std_sel', { client_access_mode: 'ledger_selected' }));
      await refusedWith('ca_ls', 'user.update', user('std_sel', { client_access_mode: 'selected' }), [
        'grant_exceeds_own_access',
      ]);
      await allowed('ca', 'user.update', user('std_sel', { client_access_mode: 'ledger_all' }));
    });
    t.test(
      'when a colleague is promoted, then the mode it will have is judged: its stored one, else the role default',
      async () => {
        await refusedWith('ca_sel', 'user.update', user('std_all', { role: 'client_admin' }), [
          'grant_exceeds_own_access',
        ]);
        await refusedWith('ca_sel', 'user.update', user('std_sel', { role: 'client_admin' }), [
          'grant_exceeds_own_access',
        ]);
        await allowed(
          'ca_sel',
          'user.update',
          user('std_sel', { role: 'client_admin', client_access_mode: 'selected' }),
        );
      },
    );
    t.test(
      "when own-books permissions above the admin's own are granted, then grant_exceeds_own_access names each",
      async (t) => {
        const proposal = {
          role: 'standard',
          client_access_mode: 'ledger_selected',
          permissions: { publishing: 'all', create_expense_claims: true },
        };
        const answer = await refusedWith('ca_ls', 'user.create', user(undefined, proposal), [
          'grant_exceeds_own_access',
          'grant_exceeds_own_access',
        ]);
        t.same(exceeding(answer), [
          'may not grant create_expense_claims: the admin does not hold it',
          "may not grant publishing all: it is above the admin's own (expense_claims_only)",
        ]);
        await allowed(
          'ca_ls',
          'user.create',
          user(undefined, { ...proposal, permissions: { publishing: 'expense_claims_only' } }),
        );
      },
    );
    t.test('when a client admin with manage_business grants all three, then it is allowed', async () => {
      await allowed(
        'ca_mb',
        'user.update',
        user('std_sel', { permissions: { manage_business: true, create_expense_claims: true, publishing: 'all' } }),
      );
    });
    t.test(
      'when the top admin or a business user admin grants anything, then the rule does not limit them',
      async () => {
        await allowed(
          'pa',
          'user.create',
          user(undefined, { role: 'client_admin', client_access_mode: 'all', permissions: { manage_business: true } }),
        );
        await allowed('pa', 'user.client_access.edit', user('std_sel', { client_id: 'c_qb' }));
        await allowed('ua', 'user.update', user('bstd', { permissions: { manage_business: true, publishing: 'all' } }));
      },
    );
  });

  t.test('the practice-manager link', async (t) => {
    t.test('when an admin sets the link of a colleague, then it is allowed; a standard user may not', async () => {
      await allowed('ca', 'user.xpm_link.edit', user('std_sel', { xpm_staff_id: 'x7' }));
      await refusedWith('std_all', 'user.xpm_link.edit', user('std_sel', { xpm_staff_id: 'x7' }), [
        'role_not_permitted',
      ]);
    });
    t.test('when a sub admin sets the link of the top admin, then admin_target_protected', async () => {
      await refusedWith('ca', 'user.xpm_link.edit', user('pa', { xpm_staff_id: null }), ['admin_target_protected']);
    });
    t.test(
      'when it is asked in a business account, directly or through an update, then account_kind_not_supported',
      async () => {
        await refusedWith('ba', 'user.xpm_link.edit', user('bstd', { xpm_staff_id: 'x1' }), [
          'account_kind_not_supported',
        ]);
        await refusedWith('ba', 'user.update', user('bstd', { xpm_staff_id: 'x1' }), ['account_kind_not_supported']);
        await allowed('ba', 'user.update', user('bstd', { xpm_staff_id: null }));
      },
    );
    t.test(
      'when an update proposes a link with other changes, then its refusals are listed with the others',
      async () => {
        await refusedWith('ca_sel', 'user.update', user('ca_sel', { xpm_staff_id: 'x3', role: 'practice_admin' }), [
          'admin_target_protected',
          'self_action_not_allowed',
        ]);
      },
    );
  });

  t.test(
    'when user.create names an id, even of a user of another account, then invalid_input names resource.id (issue 14)',
    async (t) => {
      const answer = await refusedWith('pa', 'user.create', user('pa2', { role: 'standard' }), ['invalid_input']);
      t.same(answer.reasons[0]?.message, 'resource.id must not be given for user.create: it names no existing user');
      t.test(
        'when such a request is one of a batch, then only it is refused and the others are answered',
        async (t) => {
          const requests = [
            { subject: { id: 'pa' }, action: 'user.create', resource: user(undefined, { role: 'standard' }) },
            { subject: { id: 'pa' }, action: 'user.create', resource: user('pa2', { role: 'standard' }) },
            {
              subject: { id: 'ca_sel' },
              action: 'user.update',
              resource: user('std_sel', { client_access_mode: 'all' }),
            },
          ];
          const response = await app.inject({
            method: 'POST',
            url: '/v1/decide/batch',
            headers,
            payload: { requests },
          });
          t.equal(response.statusCode, 200);
          const results = response.json().results as Answer[];
          t.same(
            results.map((r) => [r.allow, codes(r)]),
            [
              [true, ['top_admin']],
              [false, ['invalid_input']],
              [false, ['grant_exceeds_own_access']],
            ],
          );
        },
      );
    },
  );

  t.test(
    'when a proposal is decided, then the log keeps the proposed values it judged and the decision replays',
    async (t) => {
      const attributes = {
        client_access_mode: 'all',
        permissions: { manage_business: true },
        status: 'active',
        xpm_staff_id: 'x5',
        nickname: 'Sammy',
      };
      const answer = await refusedWith('ca_sel', 'user.update', user('std_sel', attributes), [
        'grant_exceeds_own_access',
        'grant_exceeds_own_access',
      ]);
      await logWritten(app);
      const logged = (await app.inject({ method: 'GET', url: `/v1/decisions/${answer.decision_id}`, headers })).json();
      const { nickname: _unjudged, ...judged } = attributes;
      t.same(logged.input.resource.attributes, judged, "proposed values kept, the caller's other data removed");
      t.match(
        logged.input.resource,
        { permissions: { manage_business: false }, xpm_staff_id: null },
        "the target's current values",
      );
      t.same(logged.result, { allow: false, reasons: answer.reasons });
      const replayed = app.policy.engine?.decide({
        ...logged.input,
        account: { ...logged.input.account, name: 'any' },
      });
      t.same(replayed, { allow: false, reasons: answer.reasons }, 'replaying the logged input gives the same answer');
    },
  );

  t.test(
    "when an allocation is decided, then the input holds the subject's own access to the client beside the target's",
    async (t) => {
      const answer = await refusedWith('ca_ls', 'user.client_access.edit', user('std_ls', { client_id: 'c_xero2' }), [
        'grant_exceeds_own_access',
        'ledger_access_required',
      ]);
      await logWritten(app);
      const logged = (await app.inject({ method: 'GET', url: `/v1/decisions/${answer.decision_id}`, headers })).json();
      t.same(logged.input.resource.attribute_client, {
        id: 'c_xero2',
        found: true,
        account_id: 'p1',
        ledger: 'xero',
        ledger_access: false, // the target's: greyed out for std_ls
        subject_allocated: true,
        subject_ledger_access: false,
      });
    },
  );
});
