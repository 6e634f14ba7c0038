// A shadow revision on live traffic: every single decision is also evaluated by it, the answer
// given stays the active revision's, and where the shadow disagrees the log entry says how (and
// ?shadow_differs=true finds it, and /metrics counts it). Clearing the shadow stops it.
import type { components } from '../../service/http/openapi-types.ts';
import t from 'tap';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import { metricsText, metricValue, policyApi, revisionRoles, uploaded } from '../helpers/policy-api.ts';
import { localRevision, renamedAction } from '../helpers/policy-bundles.ts';
import { type Logged, logKnownDecisions } from '../helpers/policy-traffic.ts';

const ADMIN = 'admin-token-for-policy-shadow-tests';

interface Entry {
  decision_id: string;
  action: string | null;
  allow: boolean;
  reason_codes: string[];
  policy_revision: string | null;
  shadow: { revision: string; allow: boolean; reasons: string[] } | null;
}

type AuditEntry = components['schemas']['AuditEntry'];

const tokenId = (token: string) => token.split('_')[1] as string;

t.test('given the local build active and the renamed-action candidate stored', async (t) => {
  const { app, database } = await buildTestApp(t, { adminToken: ADMIN });
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['policy']);
  const operator = policyApi(app, token);
  const candidate = renamedAction();
  await uploaded(operator, candidate.archive);
  const local = localRevision();
  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
  const entries = async (query: string) => {
    const response = await get(`/v1/decisions?limit=1000${query}`);
    if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
    return new Map((response.json().decisions as Entry[]).map((entry) => [entry.decision_id, entry]));
  };
  const disagreements = async () =>
    metricValue(await metricsText(app), 'clearance_policy_shadow_disagreements_total') ?? 0;
  const shadowAudit = async () => {
    const response = await get('/v1/audit?record_type=policy_shadow&limit=1000');
    return response.json().entries as AuditEntry[];
  };

  const unset = await operator.get('/v1/policies/shadow');
  const counted = await disagreements();
  const set = await operator.put('/v1/policies/shadow', { revision: candidate.revision });
  const traffic = await logKnownDecisions(app, ADMIN);
  const listQuery = await app.inject({
    method: 'POST',
    url: '/v1/resources/query',
    headers: { authorization: `Bearer ${ADMIN}` },
    payload: { subject: { id: 'pa' }, action: 'client.view', resource_type: 'client' },
  });
  await logWritten(app);
  const clientViews = traffic.all.filter((e) => e.action === 'client.view');

  t.test('when nothing is set, then there is no shadow', async (t) => {
    t.equal(unset.statusCode, 200);
    t.same(unset.json(), { revision: null, set_at: null, set_by: null });
  });

  t.test('when the candidate is set as shadow, then it is named everywhere an operator looks', async (t) => {
    t.equal(set.statusCode, 200, set.body);
    t.match(set.json(), { revision: candidate.revision, set_at: String, set_by: tokenId(token) });
    t.same((await operator.get('/v1/policies/shadow')).json(), set.json());
    const listed = await operator.list();
    t.equal(listed.shadow, candidate.revision);
    t.same(
      listed.revisions.filter((r) => r.shadow).map((r) => r.revision),
      [candidate.revision],
    );
    t.equal(listed.active?.revision, local, 'the active revision is unchanged');
    const ready = (await get('/ready')).json();
    t.equal(ready.policy_revision, local);
    t.equal(ready.policy_shadow, candidate.revision);
    t.same(await revisionRoles(app), { active: [local], shadow: [candidate.revision] });
  });

  t.test('then every caller got the active revision’s answer', async (t) => {
    t.equal(clientViews.length, 31);
    t.same(
      clientViews.filter((e) => e.codes.includes('unknown_action')),
      [],
      'no client.view answer was the shadow’s unknown_action',
    );
    t.equal(clientViews.filter((e) => e.allow).length, 27, 'the allowed ones still allowed');
    const logged = await entries('');
    for (const asked of traffic.all) t.equal(logged.get(asked.decisionId)?.policy_revision, local);
  });

  t.test('then each client.view entry keeps the shadow’s disagreement, and no other entry has one', async (t) => {
    const logged = await entries('');
    t.equal(logged.size, traffic.all.length + 1, 'the decisions and the list query');
    const wrong: string[] = [];
    for (const asked of traffic.all) {
      const entry = logged.get(asked.decisionId) as Entry;
      const want =
        asked.action === 'client.view'
          ? {
              revision: candidate.revision,
              allow: false,
              reasons: asked.codes.includes('unknown_subject')
                ? ['unknown_action', 'unknown_subject']
                : ['unknown_action'],
            }
          : null;
      if (JSON.stringify(entry.shadow) !== JSON.stringify(want))
        wrong.push(`${asked.endpoint} ${asked.subject} ${asked.action}: ${JSON.stringify(entry.shadow)}`);
    }
    t.same(wrong, [], 'every entry has the shadow verdict it should (decide, batch, OPA, OPA batch)');
  });

  t.test('then a list query is not shadowed', async (t) => {
    t.equal(listQuery.statusCode, 200);
    t.same(
      [...listQuery.json().allowed].sort(),
      ['c_myob', 'c_none', 'c_qb', 'c_xero', 'c_xero2', 'c_xero3'],
      'the active revision’s list: every client of the practice',
    );
    const entry = await get(`/v1/decisions/${listQuery.json().decision_id}`);
    t.equal(entry.json().endpoint, 'query');
    t.equal(entry.json().shadow, null);
  });

  t.test('then ?shadow_differs=true lists exactly the disagreeing entries, and false the others', async (t) => {
    const differing = await entries('&shadow_differs=true');
    t.same([...differing.keys()].sort(), clientViews.map((e) => e.decisionId).sort());
    const agreeing = await entries('&shadow_differs=false');
    t.same(
      [...agreeing.keys()].sort(),
      [
        ...traffic.all.filter((e) => e.action !== 'client.view').map((e) => e.decisionId),
        listQuery.json().decision_id,
      ].sort(),
    );
  });

  t.test('then /metrics counts each disagreement', async (t) => {
    t.equal(await disagreements(), counted + clientViews.length);
  });

  t.test('when the same shadow is set again, then nothing changes and the audit trail has one entry', async (t) => {
    const again = await operator.put('/v1/policies/shadow', { revision: candidate.revision });
    t.equal(again.statusCode, 200);
    t.same(again.json(), set.json(), 'set when first set, by whom first set it');
    t.match(await shadowAudit(), [
      {
        token_id: tokenId(token),
        record_type: 'policy_shadow',
        record_id: 'shadow',
        change: 'update',
        before: null,
        after: { revision: candidate.revision },
      },
    ]);
    t.equal((await shadowAudit()).length, 1);
  });

  t.test('when the shadow is set to an unknown revision, then 404 and the shadow stays', async (t) => {
    const response = await operator.put('/v1/policies/shadow', { revision: 'fedcba9876543210fedcba9876543210' });
    t.equal(response.statusCode, 404);
    t.equal(response.json().error.code, 'revision_not_found');
    const malformed = await operator.put('/v1/policies/shadow', { revision: 'next' });
    t.equal(malformed.statusCode, 400);
    t.equal((await operator.get('/v1/policies/shadow')).json().revision, candidate.revision);
  });

  t.test('when the shadow is cleared, then decisions are no longer shadowed', async (t) => {
    const cleared = await operator.del('/v1/policies/shadow');
    t.equal(cleared.statusCode, 204);
    t.equal(cleared.body, '');
    t.same((await operator.get('/v1/policies/shadow')).json(), { revision: null, set_at: null, set_by: null });
    t.equal((await operator.list()).shadow, null);
    t.notOk('policy_shadow' in (await get('/ready')).json());
    t.same(await revisionRoles(app), { active: [local] });

    const before = await disagreements();
    const after = await logKnownDecisions(app, ADMIN);
    const logged = await entries('');
    t.same(
      after.all.filter((e) => logged.get(e.decisionId)?.shadow !== null),
      [] as Logged[],
      'no new entry has a shadow verdict',
    );
    t.equal(await disagreements(), before, 'none counted');
    const differing = await entries('&shadow_differs=true');
    t.equal(differing.size, clientViews.length, 'the entries shadowed before keep their verdict');

    const again = await operator.del('/v1/policies/shadow');
    t.equal(again.statusCode, 204, 'clearing no shadow is no error');
    t.match(await shadowAudit(), [
      {
        token_id: tokenId(token),
        change: 'delete',
        record_id: 'shadow',
        before: { revision: candidate.revision },
        after: null,
      },
      { change: 'update', after: { revision: candidate.revision } },
    ]);
    t.equal((await shadowAudit()).length, 2, 'clearing no shadow records nothing');
  });

  t.test('when the active revision is set as shadow, then nothing disagrees', async (t) => {
    await operator.put('/v1/policies/shadow', { revision: local });
    const before = await disagreements();
    const traffic = await logKnownDecisions(app, ADMIN);
    const logged = await entries('');
    t.same(
      traffic.all.filter((e) => logged.get(e.decisionId)?.shadow !== null),
      [] as Logged[],
    );
    t.equal(await disagreements(), before);
  });
});
