// Impact analysis as an author runs it before activating: the decisions of the log replayed
// through a candidate revision, counted by what would change, with samples; filtered by action,
// subject and time, bounded by a limit; streamed as lines for the command line.
import { sql } from 'kysely';
import t from 'tap';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import type { components } from '../../service/http/openapi-types.ts';
import { metricsText, metricValue, policyApi, uploaded } from '../helpers/policy-api.ts';
import { localRevision, renamedAction, stricterItemKinds } from '../helpers/policy-bundles.ts';
import { type Logged, logKnownDecisions } from '../helpers/policy-traffic.ts';

const ADMIN = 'admin-token-for-policy-impact-tests';

type Report = components['schemas']['ImpactReport'];

/** What the renamed-action candidate must report over these entries: every client.view changes, nothing else. */
function expected(entries: Logged[]) {
  const replayable = entries.filter((e) => e.action !== null);
  const clientViews = replayable.filter((e) => e.action === 'client.view');
  const allowToDeny = clientViews.filter((e) => e.allow).length;
  const reasonsChanged = clientViews.filter((e) => !e.allow).length;
  return {
    replayed: replayable.length,
    unchanged: replayable.length - clientViews.length,
    changed: clientViews.length,
    allow_to_deny: allowToDeny,
    deny_to_allow: 0,
    reasons_changed: reasonsChanged,
    not_replayable: entries.length - replayable.length,
    invalid_under_candidate: 0,
    by_action:
      clientViews.length === 0
        ? {}
        : {
            'client.view': {
              changed: clientViews.length,
              allow_to_deny: allowToDeny,
              deny_to_allow: 0,
              reasons_changed: reasonsChanged,
            },
          },
  };
}

const countsOf = (report: Report) => ({
  replayed: report.replayed,
  unchanged: report.unchanged,
  changed: report.changed,
  allow_to_deny: report.allow_to_deny,
  deny_to_allow: report.deny_to_allow,
  reasons_changed: report.reasons_changed,
  not_replayable: report.not_replayable,
  invalid_under_candidate: report.invalid_under_candidate,
  by_action: report.by_action,
});

t.test('given a decision log of known decisions and the renamed-action candidate stored', async (t) => {
  const { app, database } = await buildTestApp(t, { adminToken: ADMIN });
  await seedFixtures(database.db);
  const author = policyApi(app, await makeToken(database.db, ['policy']));
  const candidate = renamedAction();
  await uploaded(author, candidate.archive);
  const { first, second, all, between } = await logKnownDecisions(app, ADMIN);
  // A list query is logged too, and is not one decision to replay.
  const listQuery = await app.inject({
    method: 'POST',
    url: '/v1/resources/query',
    headers: { authorization: `Bearer ${ADMIN}` },
    payload: { subject: { id: 'pa' }, action: 'client.view', resource_type: 'client' },
  });
  await logWritten(app);
  const impact = async (revision: string, body?: object) => {
    const response = await author.post(`/v1/policies/${revision}/impact`, body);
    if (response.statusCode !== 200) throw new Error(`impact answered ${response.statusCode}: ${response.body}`);
    return response.json() as Report;
  };

  t.test('then the log holds exactly the decisions asked, and one list query', async (t) => {
    const response = await app.inject({
      method: 'GET',
      url: '/v1/decisions?limit=1000',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const logged = response.json().decisions as Array<{ decision_id: string; endpoint: string }>;
    const singles = logged.filter((e) => e.endpoint !== 'query').map((e) => e.decision_id);
    t.same(singles.sort(), all.map((e) => e.decisionId).sort());
    t.equal(listQuery.statusCode, 200);
    t.same(
      logged.filter((e) => e.endpoint === 'query').map((e) => e.decision_id),
      [listQuery.json().decision_id],
      'and the list query',
    );
  });

  t.test('when the candidate is replayed over the whole log, then every client.view decision changes', async (t) => {
    const replaysBefore = metricValue(await metricsText(app), 'clearance_policy_impact_replays_total') ?? 0;
    const report = await impact(candidate.revision);
    t.equal(report.revision, candidate.revision);
    t.same(countsOf(report), {
      replayed: 38,
      unchanged: 7,
      changed: 31,
      allow_to_deny: 27,
      deny_to_allow: 0,
      reasons_changed: 4,
      not_replayable: 1,
      invalid_under_candidate: 0,
      by_action: { 'client.view': { changed: 31, allow_to_deny: 27, deny_to_allow: 0, reasons_changed: 4 } },
    });
    t.same(countsOf(report), expected(all), 'the counts follow from what was answered');
    t.equal(report.truncated, false);
    // The log policy removes the account's name from an input that has one: all but the unknown subject's.
    const listed = await app.inject({
      method: 'GET',
      url: '/v1/decisions?limit=1000',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const masked = (
      listed.json().decisions as Array<{ endpoint: string; input: unknown; masked: Array<{ op: string }> }>
    ).filter((e) => e.endpoint !== 'query' && e.input !== null && e.masked.some((m) => m.op !== 'escape'));
    t.equal(masked.length, 37);
    t.equal(report.masked_replayed, masked.length, 'masked_replayed counts the replayed inputs a mask changed');

    const kinds = (kind: string) => report.samples.filter((s) => s.kind === kind);
    t.equal(kinds('allow_to_deny').length, 20, 'at most 20 samples of a kind (27 changed so)');
    t.equal(kinds('reasons_changed').length, 4);
    t.equal(kinds('deny_to_allow').length, 0);
    const byId = new Map(all.map((e) => [e.decisionId, e]));
    for (const sample of report.samples) {
      const asked = byId.get(sample.decision_id) as Logged;
      t.ok(asked !== undefined, `sample ${sample.decision_id} is a logged decision`);
      t.same(
        { action: sample.action, before: sample.before, after: sample.after },
        {
          action: 'client.view',
          before: { allow: asked.allow, reasons: asked.codes },
          // An unknown subject stays unknown besides.
          after: {
            allow: false,
            reasons: asked.codes.includes('unknown_subject')
              ? ['unknown_action', 'unknown_subject']
              : ['unknown_action'],
          },
        },
      );
      t.equal(sample.kind, asked.allow ? 'allow_to_deny' : 'reasons_changed');
      t.match(sample.decided_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const samples = report.samples.map((s) => s.decision_id);
    t.ok(samples.includes((first[1] as Logged).decisionId), 'the denied single decision (std_sel on c_qb) is sampled');
    t.equal(
      metricValue(await metricsText(app), 'clearance_policy_impact_replays_total'),
      replaysBefore + report.replayed,
      'every entry replayed is counted, and only those',
    );
  });

  t.test('when the active revision itself is replayed, then nothing changes', async (t) => {
    const report = await impact(localRevision());
    t.match(report, { revision: localRevision(), replayed: 38, unchanged: 38, changed: 0, not_replayable: 1 });
    t.same(report.by_action, {});
    t.same(report.samples, []);
  });

  t.test('when a candidate refuses inputs the log holds, then those count as invalid, not as changed', async (t) => {
    const stricter = stricterItemKinds();
    await uploaded(author, stricter.archive);
    const report = await impact(stricter.revision);
    const invoices = all.filter((e) => e.action === 'item.view' && e.resourceId === 'i_client');
    t.equal(invoices.length, 3);
    t.match(report, {
      replayed: 38,
      invalid_under_candidate: invoices.length,
      unchanged: 38 - invoices.length,
      changed: 0,
      not_replayable: 1,
    });
    t.same(report.by_action, {});
    t.same(report.samples, []);
  });

  t.test('when the replay is filtered by action, then only those entries are replayed', async (t) => {
    const items = await impact(candidate.revision, { action: 'item.view' });
    t.same(countsOf(items), expected(all.filter((e) => e.action === 'item.view')));
    t.equal(items.replayed, 7);
    t.equal(items.changed, 0);
    const clients = await impact(candidate.revision, { action: 'client.view' });
    t.same(countsOf(clients), expected(all.filter((e) => e.action === 'client.view')));
  });

  t.test('when the replay is filtered by subject, then only that subject’s decisions are replayed', async (t) => {
    const report = await impact(candidate.revision, { subject_id: 'std_sel' });
    t.same(countsOf(report), expected(all.filter((e) => e.subject === 'std_sel')));
    t.match(report, { replayed: 4, allow_to_deny: 1, reasons_changed: 1, unchanged: 2 });
  });

  t.test('when the replay is bounded in time, then since is inclusive and until exclusive', async (t) => {
    const before = await impact(candidate.revision, { until: between.toISOString() });
    t.same(countsOf(before), expected(first), 'until: the singles asked first');
    const after = await impact(candidate.revision, { since: between.toISOString() });
    t.same(countsOf(after), expected(second), 'since: everything asked after');
    const window = await impact(candidate.revision, {
      since: new Date(between.getTime() - 3_600_000).toISOString(),
      until: new Date(between.getTime() + 3_600_000).toISOString(),
    });
    t.same(countsOf(window), expected(all));
    // An entry's own time (several may share its millisecond): in a window from it, not in one up to it.
    const listed = await app.inject({
      method: 'GET',
      url: '/v1/decisions?limit=1000',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const times = new Map(
      (listed.json().decisions as Array<{ decision_id: string; decided_at: string }>).map((e) => [
        e.decision_id,
        Date.parse(e.decided_at),
      ]),
    );
    const at = times.get((first.at(-1) as Logged).decisionId) as number;
    const iso = new Date(at).toISOString();
    const from = await impact(candidate.revision, { since: iso });
    t.same(countsOf(from), expected(all.filter((e) => (times.get(e.decisionId) as number) >= at)));
    t.ok(from.replayed >= second.filter((e) => e.action !== null).length + 1, 'the entry at since is replayed');
    const upTo = await impact(candidate.revision, { until: iso });
    t.same(countsOf(upTo), expected(all.filter((e) => (times.get(e.decisionId) as number) < at)));
    t.ok(upTo.replayed < first.length, 'the entry at until is not');
  });

  t.test('when a limit stops the replay early, then it says the report is truncated', async (t) => {
    const newest = await impact(candidate.revision, { limit: 5 });
    t.equal(newest.replayed + newest.not_replayable, 5, 'the newest five entries');
    t.equal(newest.truncated, true);
    const exact = await impact(candidate.revision, { limit: all.length });
    t.equal(exact.truncated, false, 'a limit of exactly every entry reads them all');
    t.same(countsOf(exact), expected(all));
    const short = await impact(candidate.revision, { limit: all.length - 1 });
    t.equal(short.truncated, true);
  });

  t.test('when the request is wrong, then 404 for an unknown revision and 400 for an inverted window', async (t) => {
    const unknown = await author.post('/v1/policies/00000000000000000000000000000000/impact', {});
    t.equal(unknown.statusCode, 404);
    t.equal(unknown.json().error.code, 'revision_not_found');
    const inverted = await author.post(`/v1/policies/${candidate.revision}/impact`, {
      since: '2030-01-02T00:00:00Z',
      until: '2030-01-01T00:00:00Z',
    });
    t.equal(inverted.statusCode, 400);
    t.match(inverted.json().error, { code: 'invalid_request', details: { field: 'until' } });
    const empty = await author.post(`/v1/policies/${candidate.revision}/impact`, {
      since: '2030-01-01T00:00:00Z',
      until: '2030-01-01T00:00:00Z',
    });
    t.equal(empty.statusCode, 400, 'an empty window too');
    const unknownField = await author.post(`/v1/policies/${candidate.revision}/impact`, { subject: 'pa' });
    t.equal(unknownField.statusCode, 400);
    const tooMany = await author.post(`/v1/policies/${candidate.revision}/impact`, { limit: 100_001 });
    t.equal(tooMany.statusCode, 400);
  });

  t.test('when no body is sent, then every entry is replayed', async (t) => {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/policies/${candidate.revision}/impact`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    t.equal(response.statusCode, 200, response.body);
    t.same(countsOf(response.json()), expected(all));
  });

  t.test('when the report is asked for as NDJSON, then the stream ends with the report line', async (t) => {
    const json = await impact(candidate.revision);
    const response = await author.post(
      `/v1/policies/${candidate.revision}/impact`,
      {},
      { accept: 'application/x-ndjson' },
    );
    t.equal(response.statusCode, 200);
    t.match(response.headers['content-type'], /^application\/x-ndjson/);
    const lines = response.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    t.same(Object.keys(lines.at(-1)), ['report']);
    t.same(countsOf(lines.at(-1).report), countsOf(json));
    t.same(
      lines.at(-1).report.samples.map((s: { decision_id: string }) => s.decision_id),
      json.samples.map((s) => s.decision_id),
    );
    for (const line of lines.slice(0, -1)) t.same(Object.keys(line), ['progress']);
  });

  t.test('when an entry was logged without its input, then it is counted not replayable', async (t) => {
    // An entry as a refusal before any input was built leaves it: the action known, no input.
    await sql`insert into decision_log (decision_id, decided_at, endpoint, subject_id, action, resource_type, resource_id,
                                        allow, reason_codes, input, result, duration_us)
              values (gen_random_uuid(), date_trunc('milliseconds', now()), 'decide', 'pa', 'client.view', 'client',
                      'c_xero', false, array['context_unavailable'], null,
                      '{"allow": false, "reasons": [{"code": "context_unavailable", "message": "x"}]}', 1)`.execute(
      database.db,
    );
    const report = await impact(candidate.revision);
    t.equal(report.not_replayable, 2, 'the OPA query without input, and this one');
    t.equal(report.replayed, 38, 'it is not replayed');
    t.same(report.by_action, expected(all).by_action, 'nor counted as a change');
  });

  t.test(
    'when an entry was refused after its decision (the log could not take it), then it is not replayed',
    async (t) => {
      // Its input and the policy's result are kept, but the caller was refused: no answer to compare with.
      const source = (first[0] as Logged).decisionId;
      await sql`insert into decision_log (decision_id, decided_at, endpoint, token_id, subject_id, action, resource_type,
                                        resource_id, allow, reason_codes, input, result, masked, error, policy_revision,
                                        eval_us, duration_us)
              select gen_random_uuid(), decided_at - interval '1 millisecond', endpoint, token_id, subject_id, action,
                     resource_type, resource_id, false, array['decision_log_unavailable'], input, result, masked,
                     '{"code": "decision_log_unavailable", "message": "not logged in time"}', policy_revision, eval_us,
                     duration_us
              from decision_log where decision_id = ${source}`.execute(database.db);
      const report = await impact(candidate.revision);
      t.equal(report.not_replayable, 3, 'counted with those logged without input');
      t.equal(report.replayed, 38);
      t.same(report.by_action, expected(all).by_action, 'not counted as a change');
    },
  );

  t.test(
    'when many entries are replayed, then NDJSON has progress before the report, and limits across pages truncate exactly',
    async (t) => {
      // 6,000 copies of a logged client.view decision, older than everything else.
      const source = (first[0] as Logged).decisionId;
      await sql`insert into decision_log (decision_id, decided_at, endpoint, token_id, subject_id, action, resource_type,
                                        resource_id, allow, reason_codes, input, result, masked, policy_revision,
                                        eval_us, duration_us)
              select gen_random_uuid(), decided_at - n * interval '1 millisecond', endpoint, token_id, subject_id, action,
                     resource_type, resource_id, allow, reason_codes, input, result, masked, policy_revision, eval_us,
                     duration_us
              from decision_log, generate_series(1, 6000) as n
              where decision_id = ${source}`.execute(database.db);
      const response = await author.post(
        `/v1/policies/${candidate.revision}/impact`,
        {},
        { accept: 'application/x-ndjson' },
      );
      t.equal(response.statusCode, 200);
      const lines = response.body
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      const progress = lines.slice(0, -1);
      t.ok(progress.length >= 1, `progress lines: ${progress.length}`);
      for (const line of progress) t.match(line, { progress: { replayed: Number, scanned: Number } });
      const report = lines.at(-1).report as Report;
      t.match(report, { replayed: 38 + 6000, allow_to_deny: 27 + 6000, not_replayable: 3, truncated: false });
      t.equal(report.samples.filter((s) => s.kind === 'allow_to_deny').length, 20);

      // Limits at and around the page boundaries of the read (2,000 rows a page).
      const total = all.length + 2 + 6000;
      for (const [limit, truncated] of [
        [2000, true],
        [4001, true],
        [total - 1, true],
        [total, false],
      ] as const) {
        const bounded = await impact(candidate.revision, { limit });
        t.equal(bounded.replayed + bounded.not_replayable, Math.min(limit, total), `limit ${limit}: entries read`);
        t.equal(bounded.truncated, truncated, `limit ${limit}: truncated ${truncated}`);
      }
    },
  );
});
