// Every answer of every decision endpoint is in the decision log, with everything an operator
// needs to review or replay it; masks hide what the log policy names.
import t from 'tap';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import type { DecisionLogView } from '../../service/domain/decision-log-reader.ts';
import { faultyPolicy } from '../helpers/faults.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests read nested JSON of whatever shape the entry holds
type Loose = any;
/** An entry as the API returns it; input typed loosely for the assertions below. */
type Entry = Omit<DecisionLogView, 'input' | 'result'> & {
  input: Record<string, Loose> | null;
  result: Record<string, Loose>;
};

t.test('given the fixture data set and a token with the decide and logs scopes', async (t) => {
  const policy = faultyPolicy();
  const { app, database } = await buildTestApp(t, {}, { policyEngine: policy.engine });
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide', 'logs']);
  const tokenId = token.split('_')[1];
  const headers = { authorization: `Bearer ${token}` };
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers, payload });
  const entry = async (id: string): Promise<Entry> => {
    const response = await app.inject({ method: 'GET', url: `/v1/decisions/${id}`, headers });
    t.equal(response.statusCode, 200, `entry ${id} found`);
    return response.json();
  };
  const revision = app.policy.engine?.revision;

  t.test(
    'when a decision is answered, then its entry holds the request, the full input, the result and the timings',
    async (t) => {
      const request = { subject: { id: 'std_ls' }, action: 'client.view', resource: { type: 'client', id: 'c_xero2' } };
      const answer = (await post('/v1/decide', request)).json();
      await logWritten(app);
      const logged = await entry(answer.decision_id);
      t.match(logged, {
        decision_id: answer.decision_id,
        endpoint: 'decide',
        batch_id: null,
        token_id: tokenId,
        subject: { id: 'std_ls' },
        action: 'client.view',
        resource: { type: 'client', id: 'c_xero2' },
        allow: false,
        reason_codes: ['ledger_access_required'],
        result: { allow: false, reasons: answer.reasons },
        error: null,
        policy_revision: revision,
      });
      t.ok(Math.abs(Date.parse(logged.decided_at) - Date.now()) < 60_000, 'decided just now');
      t.ok(
        (logged.eval_us ?? 0) > 0 && logged.duration_us >= (logged.eval_us ?? 0),
        'evaluation time within the total',
      );
      // The facts the policy saw, so the decision can be replayed exactly.
      t.match(logged.input, {
        action: 'client.view',
        subject: {
          id: 'std_ls',
          found: true,
          role: 'standard',
          client_access_mode: 'ledger_selected',
          account_id: 'p1',
        },
        account: { id: 'p1', kind: 'practice' },
        resource: { type: 'client', id: 'c_xero2', found: true, ledger: 'xero', allocated: true, ledger_access: false },
      });
      const replayed = app.policy.engine?.decide({
        ...logged.input,
        account: { ...logged.input?.account, name: 'any' },
      });
      t.same(replayed, { allow: false, reasons: answer.reasons }, 'replaying the logged input gives the same answer');
    },
  );

  t.test('when a batch is answered, then each item is an entry of its own sharing one batch id', async (t) => {
    const requests = [
      { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } },
      { subject: { id: 'ghost' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } },
      { subject: { id: 'std_sel' }, action: 'item.publish', resource: { type: 'item', id: 'receipt_std_sel' } },
    ];
    const { results } = (await post('/v1/decide/batch', { requests })).json();
    await logWritten(app);
    const entries = await Promise.all(results.map((r: { decision_id: string }) => entry(r.decision_id)));
    const batchId = entries[0]?.batch_id;
    t.match(batchId, /^[0-9a-f-]{36}$/);
    t.same(
      entries.map((e) => e.batch_id),
      [batchId, batchId, batchId],
    );
    t.same(
      entries.map((e) => e.endpoint),
      ['batch', 'batch', 'batch'],
    );
    t.same(
      entries.map((e) => [e.subject.id, e.action, e.allow]),
      [
        ['pa', 'client.view', true],
        ['ghost', 'client.view', false],
        ['std_sel', 'item.publish', false],
      ],
    );
    t.same(entries[1]?.reason_codes, ['unknown_subject']);
    const listed = (await app.inject({ method: 'GET', url: `/v1/decisions?batch_id=${batchId}`, headers })).json();
    t.same(
      listed.decisions.map((e: Entry) => e.decision_id).sort(),
      results.map((r: { decision_id: string }) => r.decision_id).sort(),
      'found by batch id',
    );
  });

  t.test("when a list query is answered, then one entry holds every client's outcome, asked for or not", async (t) => {
    const answer = (
      await post('/v1/resources/query', { subject: { id: 'std_ls' }, action: 'client.view', resource_type: 'client' })
    ).json();
    t.same(answer.allowed, ['c_myob', 'c_xero']);
    t.notOk('denied' in answer);
    await logWritten(app);
    const logged = await entry(answer.decision_id);
    t.match(logged, {
      endpoint: 'query',
      subject: { id: 'std_ls' },
      action: 'client.view',
      resource: { type: 'client' },
      allow: null,
    });
    t.notOk('id' in (logged.resource ?? {}), 'a list has no single resource');
    t.same(logged.result.allowed, ['c_myob', 'c_xero']);
    t.same(
      logged.result.denied,
      [
        { id: 'c_none', codes: ['client_not_allocated'] },
        { id: 'c_qb', codes: ['client_not_allocated'] },
        { id: 'c_xero2', codes: ['ledger_access_required'] },
        { id: 'c_xero3', codes: ['client_not_allocated', 'ledger_access_required'] },
      ],
      'denied clients with their reason codes',
    );
    t.same(logged.reason_codes, ['client_not_allocated', 'ledger_access_required'], 'every code a denied client got');
    t.equal(logged.input?.clients.length, 6, 'the input of every client (one row each)');
  });

  t.test('when asked through the OPA-compatible path, then the entry says so', async (t) => {
    const answer = (
      await post('/v1/data/clearance/decision', {
        input: { subject: { id: 'ca' }, action: 'subscription.manage', resource: { type: 'account', id: 'p1' } },
      })
    ).json();
    await logWritten(app);
    t.match(await entry(answer.decision_id), {
      endpoint: 'opa',
      allow: false,
      reason_codes: ['subscription_requires_top_admin'],
      resource: { type: 'account', id: 'p1' },
    });
  });

  t.test(
    'when the input holds the account name and caller attributes the policy does not read, then the log keeps neither and says so',
    async (t) => {
      const answer = (
        await post('/v1/decide', {
          subject: { id: 'ca' },
          action: 'user.update',
          resource: {
            type: 'user',
            id: 'std_sel',
            attributes: { role: 'client_admin', note: 'promoted by Jo Bloggs' },
          },
        })
      ).json();
      t.equal(answer.allow, true, 'masks do not change the decision');
      await logWritten(app);
      const logged = await entry(answer.decision_id);
      t.same(
        [...logged.masked].sort((a, b) => a.path.localeCompare(b.path)),
        [
          { op: 'remove', path: '/input/account/name' },
          { op: 'remove', path: '/input/resource/attributes/note' },
        ],
      );
      t.notOk('name' in (logged.input?.account ?? {}), 'no account name');
      t.same(logged.input?.resource.attributes, { role: 'client_admin' }, 'the attribute the policy reads is kept');
      const text = JSON.stringify(logged);
      t.notMatch(text, /Practice One|Jo Bloggs/, 'the masked values are nowhere in the entry');
    },
  );

  t.test(
    'when the policy faults, then every decision endpoint refuses with 503 policy_error naming its entry, logged as refused, never an allow',
    async (t) => {
      policy.failDecisions('simulated fault');
      t.teardown(() => policy.heal());
      const asked = { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } };
      const refusals: Array<[string, string, object]> = [
        ['decide', '/v1/decide', asked],
        [
          'query',
          '/v1/resources/query',
          { subject: { id: 'pa' }, action: 'client.view', resource_type: 'client', include_denied: true },
        ],
        ['opa', '/v1/data/clearance/decision', { input: asked }],
      ];
      const ids: string[] = [];
      for (const [endpoint, url, body] of refusals) {
        const response = await post(url, body);
        t.equal(response.statusCode, 503, `${url}: ${response.body}`);
        const { error } = response.json();
        t.equal(error.code, 'policy_error', url);
        t.match(error.details?.decision_id, /^[0-9a-f-]{36}$/, `${url}: the refusal names its log entry`);
        t.notMatch(response.body, /"allow":true/, `${url}: no allow anywhere in the answer`);
        ids.push(error.details.decision_id);
        t.comment(`${endpoint} refused`);
      }
      const batch = await post('/v1/decide/batch', { requests: [asked] });
      t.equal(batch.statusCode, 200, 'a batch answers each item, the faulted one refused');
      t.match(batch.json().results[0], { allow: false, error: { code: 'policy_error' } });
      ids.push(batch.json().results[0].decision_id);
      policy.heal();
      await logWritten(app);
      const endpoints = ['decide', 'query', 'opa', 'batch'];
      for (const [i, id] of ids.entries()) {
        const logged = await entry(id);
        t.match(
          logged,
          {
            endpoint: endpoints[i],
            allow: false,
            reason_codes: ['policy_error'],
            error: { code: 'policy_error', message: /simulated fault/ },
            result: { allow: false },
          },
          `${endpoints[i]} logged as refused`,
        );
        t.ok(
          logged.input !== null,
          `${endpoints[i]}: the input that made the policy fault is kept for the post-mortem`,
        );
      }
    },
  );

  t.test('when the mask policy cannot be evaluated, then the entry is still written, without its input', async (t) => {
    policy.failMasks('simulated mask fault');
    t.teardown(() => policy.heal());
    const answer = (
      await post('/v1/decide', {
        subject: { id: 'pa' },
        action: 'client.view',
        resource: { type: 'client', id: 'c_xero' },
      })
    ).json();
    await logWritten(app);
    policy.heal();
    const logged = await entry(answer.decision_id);
    t.equal(logged.input, null, 'nothing unvetted is kept');
    t.same(logged.masked, [{ op: 'remove', path: '/input' }]);
    t.match(logged.result, { allow: true });
  });

  t.test('when decisions were logged, then /metrics counts them and shows an empty queue', async (t) => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    t.match(text, /^clearance_decisions_total\{endpoint="decide",outcome="deny"\} [1-9]/m);
    t.match(text, /^clearance_decisions_total\{endpoint="batch",outcome="allow"\} [1-9]/m);
    t.match(text, /^clearance_decisions_total\{endpoint="query",outcome="list"\} [1-9]/m);
    t.match(text, /^clearance_decision_log_queue_depth 0$/m);
    t.match(text, /^clearance_decision_log_waiting_on_database 0$/m);
    t.match(text, /^clearance_decision_log_entries_written_total [1-9]\d*$/m);
    t.match(text, /^clearance_decision_log_write_duration_seconds_count [1-9]/m);
  });
});

t.test('given DECISION_LOG=off, then decisions are answered and nothing is logged, not even later', async (t) => {
  const { app, database } = await buildTestApp(t, {
    decisionLog: { mode: 'off', retentionDays: 30, queueMax: 50_000 },
  });
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  const headers = { authorization: `Bearer ${token}` };
  const request = { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } };
  const response = await app.inject({ method: 'POST', url: '/v1/decide', headers, payload: request });
  t.equal(response.json().allow, true);
  t.equal(
    (await app.inject({ method: 'POST', url: '/v1/decide/batch', headers, payload: { requests: [request, request] } }))
      .statusCode,
    200,
  );
  // Buffered mode keeps an entry queued until its write has committed: with nothing queued, all
  // that would ever be written is in the table already.
  t.equal(app.decisionLog.depth, 0, 'nothing queued');
  const rows = await database.db.selectFrom('decision_log').select('decision_id').execute();
  t.same(rows, []);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /^clearance_decision_log_entries_written_total 0$/m, 'nothing written');
  t.match(
    metrics,
    /^clearance_decisions_total\{endpoint="decide",outcome="allow"\} 1$/m,
    'while the answers are counted',
  );
});

t.test(
  'given a refusal before any decision (400, 401, 403, 413), then no entry is written, while the next decision is',
  async (t) => {
    const { app, database } = await buildTestApp(t);
    await seedFixtures(database.db);
    const token = await makeToken(database.db, ['decide']);
    const logsOnly = await makeToken(database.db, ['logs']);
    const good = { subject: { id: 'pa' }, action: 'client.view', resource: { type: 'client', id: 'c_xero' } };
    const decide = (payload: string | object, authorization = `Bearer ${token}`) =>
      app.inject({
        method: 'POST',
        url: '/v1/decide',
        headers: { authorization, 'content-type': 'application/json' },
        payload,
      });
    const refusals: Array<[string, Promise<{ statusCode: number }>, number]> = [
      ['the subject is missing', decide({ action: good.action, resource: good.resource }), 400],
      ['the subject id breaks the id pattern', decide({ ...good, subject: { id: 'a b' } }), 400],
      ['a field is unknown', decide({ ...good, extra: 1 }), 400],
      ['the body is not JSON', decide('{"subject": '), 400],
      [
        'the body is too large',
        decide({ ...good, resource: { ...good.resource, attributes: { blob: 'x'.repeat(5 * 1024 * 1024) } } }),
        413,
      ],
      ['the token is unknown', decide(good, 'Bearer nonsense'), 401],
      ['the token lacks the decide scope', decide(good, `Bearer ${logsOnly}`), 403],
    ];
    for (const [when, response, status] of refusals) t.equal((await response).statusCode, status, when);
    const answered = await decide(good);
    t.equal(answered.statusCode, 200);
    await logWritten(app);
    const rows = await database.db.selectFrom('decision_log').select('decision_id').execute();
    t.same(
      rows.map((r) => r.decision_id),
      [answered.json().decision_id],
      'only the decision made is logged',
    );
  },
);
