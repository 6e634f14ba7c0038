// The policy engine on the built policy: what the service reads (clearance/verdict and
// clearance/decisions with the messages table) answers what clearance/decision answers.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import type { ClientTuple } from '../../service/policy/answers.ts';
import { PolicyEngine } from '../../service/policy/engine.ts';
import { loadSdkPolicy } from '../helpers/sdk-policy.ts';

const POLICY_DIR = resolve(import.meta.dirname, '../../.build/policy');

const account = { id: 'a1', kind: 'practice', name: 'Practice' };
const subject = (role: string, mode: string | null) => ({
  id: 'u1',
  found: true,
  account_id: 'a1',
  role,
  status: 'active',
  client_access_mode: mode,
  permissions: {
    add_clients: false,
    practice_insights: false,
    manage_business: false,
    create_expense_claims: false,
    publishing: 'none',
  },
  xpm_staff_id: null,
});
const client = ([id, account_id, ledger, allocated, ledger_access]: ClientTuple) => ({
  type: 'client',
  id,
  attributes: {},
  found: true,
  account_id,
  ledger,
  allocated,
  ledger_access,
});

t.test('given the built policy', async (t) => {
  const engine = PolicyEngine.load(POLICY_DIR);
  const sdk = loadSdkPolicy(POLICY_DIR);
  const decision = (input: unknown) =>
    (sdk.evaluate(input, 'clearance/decision') as Array<{ result: unknown }>)[0]?.result;

  const inputs = [
    {
      action: 'client.view',
      subject: subject('standard', 'ledger_selected'),
      account,
      resource: client(['c1', 'a1', 'xero', false, false]),
    },
    {
      action: 'client.view',
      subject: subject('practice_admin', null),
      account,
      resource: client(['c1', 'a1', 'xero', false, false]),
    },
    {
      action: 'client.view',
      subject: { ...subject('standard', null), status: 'gone' },
      account,
      resource: client(['c1', 'a1', 'sage', 1, false] as unknown as ClientTuple),
    },
    {
      action: 'settings.edit',
      subject: { id: 'u9', found: false },
      account: null,
      resource: { type: 'account', id: 'a1', found: false },
    },
  ];

  t.test('when a request is decided, then the answer is what clearance/decision gives', async (t) => {
    for (const input of inputs) t.same(engine.decide(input), decision(input));
  });

  t.test(
    'when a request is decided with its log masks, then one call gives what decide and logMasks give',
    async (t) => {
      const withAttributes = {
        ...inputs[1],
        resource: { ...inputs[1]?.resource, attributes: { note: 'caller data' } },
      };
      for (const input of [...inputs, withAttributes, null]) {
        for (const endpoint of ['decide', 'batch', 'opa'] as const) {
          const logged = engine.decideLogged(input, endpoint);
          const result = engine.decide(input);
          t.same(logged.result, result);
          t.same(logged.masks, engine.logMasks({ endpoint, input, result }), 'the masks of the entry as logged');
          t.equal(logged.inputJson, JSON.stringify(input), 'the input as the policy was given it');
        }
      }
      t.same(engine.decideLogged(withAttributes, 'decide').masks, [
        { op: 'remove', path: '/input/account/name' },
        { op: 'remove', path: '/input/resource/attributes/note' },
      ]);
      const unwritable = engine.decideLogged({ action: 'client.view', subject: { id: 1n } }, 'decide');
      t.same(
        unwritable.result.reasons.map((r) => r.code),
        ['policy_error'],
      );
      t.equal(unwritable.masks, null);
    },
  );

  t.test('when the input is falsy, then it is decided as that value, not as a missing input', async (t) => {
    for (const input of [null, 0, '', false]) {
      t.same(engine.decide(input), {
        allow: false,
        reasons: [{ code: 'invalid_input', message: 'input must be an object' }],
      });
    }
  });

  t.test('when the input cannot be written as JSON, then the answer is a policy_error refusal', async (t) => {
    const answer = engine.decide({ action: 'client.view', subject: { id: 1n } });
    t.equal(answer.allow, false);
    t.same(
      answer.reasons.map((r) => r.code),
      ['policy_error'],
    );
  });

  t.test('when a list of clients is decided, then each client gets the decision of its own request', async (t) => {
    const rows: ClientTuple[] = [
      ['c1', 'a1', 'xero', true, true],
      ['c2', 'a1', 'xero', true, false],
      ['c3', 'a1', 'myob', false, false],
      ['c4', 'a2', 'none', true, true],
      ['c5', 'a1', 'quickbooks', true, false],
    ];
    for (const [role, mode] of [
      ['standard', 'ledger_selected'],
      ['client_admin', null],
      ['practice_admin', null],
      ['expense_approver', null],
    ] as const) {
      const results = engine.decideClients({
        action: 'client.view',
        subject: subject(role, mode),
        account,
        clients: rows,
      });
      t.same(
        results,
        rows.map((row) =>
          engine.decide({ action: 'client.view', subject: subject(role, mode), account, resource: client(row) }),
        ),
        `${role} ${mode}`,
      );
    }
  });

  t.test(
    'when a list is larger than the module memory, then the memory grows and every client is decided',
    async (t) => {
      const rows = Array.from(
        { length: 30_000 },
        (_, i): ClientTuple => [`client-${i}`, 'a1', i % 2 ? 'xero' : 'myob', i % 3 === 0, i % 5 === 0],
      );
      const results = engine.decideClients({
        action: 'client.view',
        subject: subject('standard', 'ledger_all'),
        account,
        clients: rows,
      });
      t.equal(results.length, rows.length);
      t.notOk(results.some((r) => r.reasons.some((x) => x.code === 'policy_error')));
      t.same(
        results[1],
        engine.decide({
          action: 'client.view',
          subject: subject('standard', 'ledger_all'),
          account,
          resource: client(rows[1] as ClientTuple),
        }),
      );
    },
  );
});

t.test('given the built policy labelled for the clearance/v1 contract, then it is served as one', async (t) => {
  // A stored revision built before clearance/v2: its decisions are read from verdict and its masks
  // asked for apart (masks null tells the log to ask).
  const dir = t.testdir();
  for (const name of ['policy.wasm', 'data.json']) cpSync(join(POLICY_DIR, name), join(dir, name));
  const manifest = JSON.parse(readFileSync(join(POLICY_DIR, '.manifest'), 'utf8'));
  writeFileSync(join(dir, '.manifest'), JSON.stringify({ ...manifest, metadata: { contract: 'clearance/v1' } }));
  const v1 = PolicyEngine.load(dir);
  const input = {
    action: 'client.view',
    subject: subject('practice_admin', null),
    account,
    resource: client(['c1', 'a1', 'xero', false, false]),
  };
  const logged = v1.decideLogged(input, 'decide');
  t.same(logged.result, v1.decide(input));
  t.equal(logged.result.allow, true);
  t.equal(logged.masks, null);
  t.equal(logged.inputJson, JSON.stringify(input));
});

t.test(
  'given a built policy whose data (its constant tables) is not JSON, then loading it fails saying so',
  async (t) => {
    const dir = t.testdir();
    for (const name of ['policy.wasm', '.manifest']) cpSync(join(POLICY_DIR, name), join(dir, name));
    writeFileSync(join(dir, 'data.json'), '{"clearance": ');
    t.throws(() => PolicyEngine.load(dir), { name: 'PolicyLoadError', message: /data\.json is not loadable JSON/ });
  },
);

t.test('given a built policy without its data (its constant tables), then loading it fails saying so', async (t) => {
  // The module reads every table from data.json: loaded without it, nothing would pass the input
  // checks, a silent outage rather than an error.
  const dir = t.testdir();
  for (const name of ['policy.wasm', '.manifest']) cpSync(join(POLICY_DIR, name), join(dir, name));
  t.throws(() => PolicyEngine.load(dir), { name: 'PolicyLoadError', message: /no policy data at .*data\.json/ });
});
