// Every row of SPEC §2, asked through POST /v1/decide: facts in the database, the compiled
// WebAssembly policy, the answer with its reason codes.
import t from 'tap';
import { buildTestApp } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

type Row = [
  subject: string,
  action: string,
  resource: { type: string; id?: string; attributes?: Record<string, unknown> },
  expected: true | string[],
];
const client = (id: string) => ({ type: 'client', id });
const account = (id: string) => ({ type: 'account', id });
const user = (id: string | undefined, attributes: Record<string, unknown> = {}) => ({
  type: 'user',
  ...(id ? { id } : {}),
  attributes,
});
const item = (id: string) => ({ type: 'item', id });

const rows: Record<string, Row[]> = {
  '2.1 always first': [
    ['ghost', 'client.view', client('c_xero'), ['unknown_subject']],
    ['pa', 'client.view', client('c_missing'), ['resource_not_found']],
    ['pa', 'client.teleport', client('c_xero'), ['unknown_action']],
    ['sus', 'client.view', client('c_xero'), ['user_suspended']],
    ['pa', 'client.view', client('c_other'), ['tenant_mismatch']],
    ['pa', 'item.view', item('i_other'), ['tenant_mismatch']],
    ['pa', 'settings.view', account('p2'), ['tenant_mismatch']],
  ],
  '2.2 client access': [
    ['pa', 'client.view', client('c_xero3'), true],
    ['ea', 'client.view', client('c_xero'), ['role_not_permitted']],
    ['ca', 'client.edit', client('c_qb'), true],
    ['ca_sel', 'client.view', client('c_xero'), true],
    ['ca_sel', 'client.view', client('c_myob'), ['client_not_allocated']],
    ['std_sel', 'client.view', client('c_myob'), true],
    ['std_sel', 'client.access', client('c_qb'), ['client_not_allocated']],
    ['std_all', 'client.console.view', client('c_none'), true],
    ['std_la', 'client.view', client('c_xero'), true],
    ['std_la', 'client.view', client('c_xero2'), ['ledger_access_required']],
    ['std_la', 'client.view', client('c_myob'), true],
    ['std_ls', 'client.view', client('c_xero'), true],
    ['std_ls', 'client.view', client('c_xero2'), ['ledger_access_required']],
    ['std_ls', 'client.view', client('c_xero3'), ['client_not_allocated', 'ledger_access_required']],
    ['std_ls', 'client.view', client('c_myob'), true],
    ['std_ls', 'client.view', client('c_qb'), ['client_not_allocated']],
    ['std_ls', 'xbert.assign', client('c_xero2'), ['ledger_access_required']],
    ['std_sel', 'task.assign', client('c_xero'), true],
    ['pa', 'xbert.assign', client('c_qb'), true],
    ['pa', 'time.push', client('c_xero'), true],
    ['std_all', 'time.push', client('c_qb'), true],
    ['ca', 'time.push', client('c_xero'), ['xpm_link_required']],
    ['std_sel', 'time.push', client('c_qb'), ['client_not_allocated', 'xpm_link_required']],
  ],
  '2.3 account-level actions': [
    ['ca', 'settings.view', account('p1'), true],
    ['pa', 'settings.edit', account('p1'), true],
    ['std_all', 'settings.view', account('p1'), ['role_not_permitted']],
    ['ca', 'processes.manage', account('p1'), true],
    ['std_mb', 'automation.manage', account('p1'), ['role_not_permitted']],
    ['ca', 'users.list', account('p1'), true],
    ['std_sel', 'users.list', account('p1'), ['role_not_permitted']],
    ['pa', 'subscription.manage', account('p1'), true],
    ['ca', 'subscription.manage', account('p1'), ['subscription_requires_top_admin']],
    ['ba', 'subscription.manage', account('b1'), true],
    ['ua', 'subscription.manage', account('b1'), ['subscription_requires_top_admin']],
    ['ua', 'settings.edit', account('b1'), true],
    ['ca', 'client.create', account('p1'), true],
    ['std_all', 'client.create', account('p1'), true],
    ['std_sel', 'client.create', account('p1'), ['permission_missing']],
    ['std_all', 'insights.view', account('p1'), true],
    ['std_sel', 'insights.view', account('p1'), ['permission_missing']],
  ],
  '2.4 user management': [
    ['std_sel', 'user.view', user('std_sel'), true],
    ['std_sel', 'user.profile.edit', user('std_sel'), true],
    ['std_sel', 'user.view', user('pa'), ['role_not_permitted']],
    ['ea', 'user.update', user('std_sel'), ['role_not_permitted']],
    ['pa', 'user.suspend', user('ca'), true],
    ['ca', 'user.suspend', user('pa'), ['admin_target_protected']],
    ['ca', 'user.view', user('pa'), true],
    ['ca', 'user.update', user('std_sel', { role: 'standard' }), true],
    ['ca', 'user.create', user(undefined, { role: 'practice_admin' }), ['admin_target_protected']],
    ['ca', 'user.create', user(undefined, { role: 'standard' }), true],
    ['pa', 'user.create', user(undefined, { role: 'user_admin' }), ['invalid_role']],
    ['pa', 'user.create', user(undefined, { role: 'expense_approver' }), ['role_phased_out']],
    ['pa', 'user.update', user('std_sel', { role: 'expense_approver' }), ['role_phased_out']],
    ['pa', 'user.update', user('ea', { role: 'expense_approver' }), true],
    ['ba', 'user.remove', user('ua'), true],
    ['ua', 'user.remove', user('ba'), ['admin_target_protected']],
    ['ua', 'user.enable', user('bstd'), true],
    ['pa', 'user.client_access.edit', user('std_ls', { client_id: 'c_xero2' }), ['ledger_access_required']],
    ['pa', 'user.client_access.edit', user('std_ls', { client_id: 'c_xero' }), true],
    ['pa', 'user.client_access.edit', user('std_sel', { client_id: 'c_xero2' }), true],
    ['pa', 'user.view', user('ba'), ['tenant_mismatch']],
  ],
  '2.5 items': [
    ['std_sel', 'item.view', item('i_client'), true],
    ['std_sel', 'item.edit', item('i_client_qb'), ['client_not_allocated']],
    ['std_la', 'item.publish', item('i_client'), true],
    ['pa', 'item.edit', item('claim_ca'), true],
    ['std_mb', 'item.view', item('claim_ca'), true],
    ['std_mb', 'item.publish', item('receipt_std_sel'), true],
    ['std_mb', 'expense_claim.create', account('p1'), true],
    ['std_sel', 'item.view', item('receipt_std_sel'), true],
    ['std_sel', 'item.edit', item('claim_ca'), ['not_owner']],
    ['std_sel', 'item.publish', item('claim_std_sel'), true],
    ['std_sel', 'item.publish', item('receipt_std_sel'), ['permission_missing']],
    ['std_all', 'item.publish', item('invoice_std_all'), true],
    ['ca', 'item.publish', item('claim_ca'), ['permission_missing']],
    ['std_sel', 'expense_claim.create', account('p1'), true],
    ['std_all', 'expense_claim.create', account('p1'), ['permission_missing']],
    ['ea', 'item.view', item('claim_std_sel'), true],
    ['ea', 'item.view', item('receipt_std_sel'), ['role_not_permitted']],
    ['ea', 'item.edit', item('claim_std_sel'), ['role_not_permitted']],
    ['pa', 'expense_claim.approve', item('claim_std_sel'), true],
    ['ea', 'expense_claim.approve', item('claim_std_sel'), true],
    ['std_mb', 'expense_claim.approve', item('claim_std_sel'), true],
    ['std_sel', 'expense_claim.approve', item('claim_ca'), ['role_not_permitted']],
    ['std_mb', 'expense_claim.approve', item('claim_std_mb'), ['self_approval']],
    ['ua', 'item.edit', item('b_claim_bstd'), true],
    ['bstd', 'item.view', item('b_invoice_ua'), ['not_owner']],
    ['bea', 'expense_claim.approve', item('b_claim_bstd'), true],
    ['ba', 'expense_claim.approve', item('b_claim_bstd'), true],
  ],
};

t.test('given the fixture data set', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  for (const [area, list] of Object.entries(rows)) {
    t.test(area, async (t) => {
      for (const [subject, action, resource, expected] of list) {
        const response = await app.inject({
          method: 'POST',
          url: '/v1/decide',
          headers: { authorization: `Bearer ${token}` },
          payload: { subject: { id: subject }, action, resource },
        });
        const what = `${subject} ${action} ${resource.type}:${resource.id ?? '(new)'} ${JSON.stringify(resource.attributes ?? {})}`;
        t.equal(response.statusCode, 200, `${what}: status`);
        const body = response.json() as {
          allow: boolean;
          reasons: Array<{ code: string }>;
          decision_id: string;
          policy_revision: string;
        };
        if (expected === true) {
          t.equal(body.allow, true, `${what}: allowed (${JSON.stringify(body.reasons)})`);
        } else {
          t.equal(body.allow, false, `${what}: refused`);
          t.same(
            body.reasons.map((r) => r.code),
            expected,
            `${what}: reasons ${expected.join(', ')}`,
          );
        }
        t.match(body.decision_id, /^[0-9a-f-]{36}$/);
        t.equal(body.policy_revision, app.policy.engine?.revision);
      }
    });
  }
});
