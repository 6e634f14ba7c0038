// Replaying one logged decision (POST /v1/decisions/{id}/replay): its logged input through the
// active revision or a stored one, compared with the answer it got; entries that cannot be
// replayed say why; a replay is a check, so nothing is logged.
import { sql } from 'kysely';
import t from 'tap';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import { policyApi, uploaded } from '../helpers/policy-api.ts';
import { localRevision, renamedAction } from '../helpers/policy-bundles.ts';

const ADMIN = 'admin-token-for-replay-tests';

t.test('given logged decisions, a list entry and a stored candidate that renames client.view', async (t) => {
  const { app, database } = await buildTestApp(t, { adminToken: ADMIN });
  await seedFixtures(database.db);
  const post = (url: string, body?: unknown, token = ADMIN) =>
    app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  const decided = async (action: string, type: string, id: string) =>
    (await post('/v1/decide', { subject: { id: 'pa' }, action, resource: { type, id } })).json() as {
      decision_id: string;
      allow: boolean;
    };
  const view = await decided('client.view', 'client', 'c_xero');
  const settings = await decided('settings.view', 'account', 'p1');
  const list = (
    await post('/v1/resources/query', { subject: { id: 'pa' }, action: 'client.view', resource_type: 'client' })
  ).json();
  await logWritten(app);
  const candidate = renamedAction();
  await uploaded(policyApi(app, ADMIN), candidate.archive);
  const logged = async () =>
    Number((await sql<{ n: string }>`select count(*) as n from decision_log`.execute(database.db)).rows[0]?.n);
  const before = await logged();

  t.test('when a decision is replayed on the active revision, then it is the same answer', async (t) => {
    const replay = await post(`/v1/decisions/${view.decision_id}/replay`);
    t.equal(replay.statusCode, 200, replay.body);
    t.match(replay.json(), {
      decision_id: view.decision_id,
      replayable: true,
      why: null,
      revision: localRevision(),
      before: { allow: true, reasons: ['top_admin'], policy_revision: localRevision() },
      after: { allow: true, reasons: [{ code: 'top_admin' }] },
      differs: false,
    });
    t.same(replay.json().masked, ['/input/account/name'], 'the masked field is named');
  });

  t.test('when it is replayed on the candidate, then the answer differs, with the new reasons', async (t) => {
    const replay = (await post(`/v1/decisions/${view.decision_id}/replay`, { revision: candidate.revision })).json();
    t.match(replay, { replayable: true, revision: candidate.revision, differs: true, after: { allow: false } });
    t.same(
      replay.after.reasons.map((r: { code: string }) => r.code),
      ['unknown_action'],
    );
    const unchanged = (
      await post(`/v1/decisions/${settings.decision_id}/replay`, { revision: candidate.revision })
    ).json();
    t.match(unchanged, { replayable: true, differs: false }, 'a decision on another action is the same');
  });

  t.test(
    'when the entry is a list, logged without input, or refused, then it says why it cannot be replayed',
    async (t) => {
      t.match((await post(`/v1/decisions/${list.decision_id}/replay`)).json(), {
        replayable: false,
        why: 'list_entry',
        after: null,
        differs: null,
      });
      const [noInput, refusedId] = [crypto.randomUUID(), crypto.randomUUID()];
      await sql`insert into decision_log (decision_id, decided_at, endpoint, subject_id, action, resource_type, resource_id,
                                        allow, reason_codes, input, result, error, duration_us)
              values (${noInput}::uuid, now(), 'decide', 'pa', 'client.view', 'client', 'c_xero', false,
                      array['context_unavailable'], null, '{}',
                      '{"code": "context_unavailable", "message": "x"}', 1),
                     (${refusedId}::uuid, now(), 'decide', 'pa', 'client.view', 'client', 'c_xero', false,
                      array['decision_log_unavailable'], '{"action": "client.view"}', '{}',
                      '{"code": "decision_log_unavailable", "message": "x"}', 1)`.execute(database.db);
      t.match((await post(`/v1/decisions/${noInput}/replay`)).json(), {
        replayable: false,
        why: 'logged_without_input',
      });
      t.match((await post(`/v1/decisions/${refusedId}/replay`)).json(), { replayable: false, why: 'refused' });
    },
  );

  t.test('when the entry, the revision or the scope is wrong, then 404, 404 and 403', async (t) => {
    const unknown = await post(`/v1/decisions/${crypto.randomUUID()}/replay`);
    t.equal(unknown.statusCode, 404);
    t.equal(unknown.json().error.code, 'decision_not_found');
    const noRevision = await post(`/v1/decisions/${view.decision_id}/replay`, { revision: 'f'.repeat(32) });
    t.equal(noRevision.statusCode, 404);
    t.equal(noRevision.json().error.code, 'revision_not_found');
    const decideOnly = await makeToken(database.db, ['decide']);
    t.equal((await post(`/v1/decisions/${view.decision_id}/replay`, undefined, decideOnly)).statusCode, 403);
    const bad = await post(`/v1/decisions/${view.decision_id}/replay`, { revision: 'x', extra: 1 });
    t.equal(bad.statusCode, 400);
  });

  t.test('then no replay was logged as a decision', async (t) => {
    await logWritten(app);
    t.equal(await logged(), before + 2, 'only the two entries this test wrote itself');
  });
});
