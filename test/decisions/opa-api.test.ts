// OPA's API on the decision path as OPA clients call it: the Data API by POST and GET, a missing
// input, gzip both ways, OPA's query parameters and error shape, the default decision, Enterprise
// OPA's batch API, and the OPA TypeScript SDK used unchanged.
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { OPAClient } from '@open-policy-agent/opa';
import { HTTPClient } from '@open-policy-agent/opa/lib/http.js';
import { OpaApiClient } from '@open-policy-agent/opa/sdk/index.js';
import { GzipAcceptEncoding, GzipContentEncoding } from '@open-policy-agent/opa/sdk/models/components';
import t, { type Test } from 'tap';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { deepMerge } from '../../service/routes/opa.ts';
import { faultyPolicy } from '../helpers/faults.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

type Decision = { decision_id: string; allow: boolean; reasons: Array<{ code: string; message: string }> };

const question = (subject: string, client: string) => ({
  subject: { id: subject },
  action: 'client.view',
  resource: { type: 'client', id: client },
});
const DATA = '/v1/data/clearance/decision';
const BATCH = '/v1/batch/data/clearance/decision';

t.test('deepMerge merges own keys only, the item winning, and never touches a prototype', async (t) => {
  t.same(deepMerge({ a: { valueOf: 'x', keep: 1 }, b: [1] }, { a: { keep: 2 }, b: [2, 3] }), {
    a: { valueOf: 'x', keep: 2 },
    b: [2, 3],
  });
  const merged = deepMerge({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
  t.ok(Object.hasOwn(merged, '__proto__'), '"__proto__" stays a key');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.same(deepMerge({ a: 1 }, { a: null }), { a: null });
});

t.test('given the fixture data set', async (t) => {
  const policy = faultyPolicy();
  const { app, database } = await buildTestApp(t, {}, { policyEngine: policy.engine });
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  const logs = await makeToken(database.db, ['logs']);
  const auth = { authorization: `Bearer ${token}` };
  const send = (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method,
      url,
      headers: { ...auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload) }),
    });
  const decide = async (q: object) => (await send('POST', '/v1/decide', q)).json() as Decision;
  const logged = async (decisionId: string) => {
    await logWritten(app);
    const response = await app.inject({
      url: `/v1/decisions/${decisionId}`,
      headers: { authorization: `Bearer ${logs}` },
    });
    t.equal(response.statusCode, 200, `decision ${decisionId} logged`);
    return response.json();
  };
  const same = (t: Test, got: Decision, want: Decision) =>
    t.same({ allow: got.allow, reasons: got.reasons }, { allow: want.allow, reasons: want.reasons });

  t.test('when a decision is asked by POST and by GET, then both answer what /v1/decide answers', async (t) => {
    for (const [subject, client] of [
      ['std_sel', 'c_myob'],
      ['std_sel', 'c_qb'],
      ['std_la', 'c_xero2'],
    ] as const) {
      const want = await decide(question(subject, client));
      const posted = await send('POST', DATA, { input: question(subject, client) });
      t.equal(posted.statusCode, 200);
      same(t, posted.json().result, want);
      t.equal(posted.json().decision_id, posted.json().result.decision_id);
      t.notOk('warning' in posted.json());
      const input = encodeURIComponent(JSON.stringify(question(subject, client)));
      const got = await send('GET', `${DATA}?input=${input}`);
      t.equal(got.statusCode, 200);
      same(t, got.json().result, want);
      const entry = await logged(got.json().decision_id);
      t.match(entry, { endpoint: 'opa', subject: { id: subject }, resource: { type: 'client', id: client } });
    }
  });

  t.test('when a POST has no input, then it gets the policy default and OPA warning, and is logged', async (t) => {
    for (const body of [{}, { input: null }]) {
      const response = await send('POST', DATA, body);
      t.equal(response.statusCode, 200);
      const answer = response.json();
      t.match(answer.result, { allow: false, reasons: [{ code: 'invalid_input', message: 'input is missing' }] });
      t.same(answer.warning, { code: 'api_usage_warning', message: "'input' key missing from the request" });
      const entry = await logged(answer.decision_id);
      t.match(entry, { endpoint: 'opa', subject: null, action: null, resource: null, input: null, allow: false });
      t.same(entry.reason_codes, ['invalid_input']);
    }
    const got = await send('GET', DATA);
    t.equal(got.statusCode, 200);
    t.match(got.json().result, { allow: false, reasons: [{ code: 'invalid_input' }] });
    t.notOk('warning' in got.json(), 'OPA warns on a POST only');
  });

  t.test('when the input is not a request, then 400 in OPA shape names the field', async (t) => {
    const notJson = await send('GET', `${DATA}?input=%7Bnot`);
    t.equal(notJson.statusCode, 400);
    t.match(notJson.json(), {
      code: 'invalid_parameter',
      error: { code: 'invalid_request', details: { field: 'input' } },
    });
    const noSubject = await send('GET', `${DATA}?input=${encodeURIComponent('{"action":"client.view"}')}`);
    t.equal(noSubject.statusCode, 400);
    t.match(noSubject.json(), { code: 'invalid_parameter', message: 'input.subject is required' });
    const posted = await send('POST', DATA, { input: { subject: {} } });
    t.equal(posted.statusCode, 400);
    t.match(posted.json(), { code: 'invalid_parameter', message: 'input.action is required' });
    const twice = encodeURIComponent(
      '{"action":"client.edit","action":"client.view","subject":{"id":"std_sel"},"resource":{"type":"client"}}',
    );
    const duplicate = await send('GET', `${DATA}?input=${twice}`);
    t.equal(duplicate.statusCode, 400, 'a key given twice is refused in a GET input as in a body');
    t.match(duplicate.json(), { error: { details: { field: 'input' } }, message: /appears more than once/ });
    const malformed = await send('POST', DATA, '{"input": ');
    t.equal(malformed.statusCode, 400);
    t.equal(malformed.json().code, 'invalid_parameter');
  });

  t.test('when the caller has no token, then 401 carries OPA code unauthorized', async (t) => {
    const response = await app.inject({ method: 'POST', url: DATA, payload: { input: question('std_sel', 'c_myob') } });
    t.equal(response.statusCode, 401);
    t.match(response.json(), { code: 'unauthorized', error: { code: 'unauthenticated' } });
  });

  t.test('when the body is gzip-encoded, then it is read as OPA reads it', async (t) => {
    const want = await decide(question('std_sel', 'c_qb'));
    const body = gzipSync(JSON.stringify({ input: question('std_sel', 'c_qb') }));
    const response = await send('POST', DATA, body, { 'content-encoding': 'gzip' });
    t.equal(response.statusCode, 200);
    same(t, response.json().result, want);
    const broken = await send('POST', DATA, Buffer.from('not gzip'), { 'content-encoding': 'gzip' });
    t.equal(broken.statusCode, 400);
    t.match(broken.json(), { code: 'invalid_parameter', message: /gzip/ });
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20));
    const unpacked = await send('POST', DATA, bomb, { 'content-encoding': 'gzip' });
    t.equal(unpacked.statusCode, 413, 'the body limit applies to what the gzip unpacks to');
    t.match(unpacked.json(), {
      code: 'invalid_parameter',
      message: /^request body exceeds \d+ bytes$/,
      error: { code: 'body_too_large' },
    });
    const other = await send('POST', DATA, Buffer.from('{}'), { 'content-encoding': 'br' });
    t.equal(other.statusCode, 415);
    t.match(other.json().error, { code: 'unsupported_encoding' });
  });

  t.test('when the client accepts gzip, then an answer of 1024 bytes or more comes gzipped', async (t) => {
    const inputs = Object.fromEntries(['c_myob', 'c_qb', 'c_xero2', 'c_xero3'].map((c) => [c, question('std_sel', c)]));
    const big = await send('POST', BATCH, { inputs }, { 'accept-encoding': 'gzip, deflate' });
    t.equal(big.statusCode, 200);
    t.equal(big.headers['content-encoding'], 'gzip');
    t.match(big.headers.vary, /Accept-Encoding/);
    const body = JSON.parse(gunzipSync(big.rawPayload).toString('utf8'));
    t.same(Object.keys(body.responses).sort(), Object.keys(inputs).sort());
    t.ok(gunzipSync(big.rawPayload).length >= 1024);
    const small = await send('POST', DATA, { input: question('std_sel', 'c_qb') }, { 'accept-encoding': 'gzip' });
    t.equal(small.headers['content-encoding'], undefined, 'under 1024 bytes it stays plain');
    const refused = await send('POST', BATCH, { inputs }, { 'accept-encoding': 'gzip;q=0' });
    t.equal(refused.headers['content-encoding'], undefined, 'q=0 refuses gzip');
  });

  t.test('when OPA query parameters are given, then they answer as OPA describes them', async (t) => {
    const input = { input: question('std_sel', 'c_myob') };
    const pretty = await send('POST', `${DATA}?pretty`, input);
    t.match(pretty.payload, /^\{\n {2}"result": \{\n/);
    const notPretty = await send('POST', `${DATA}?pretty=1`, input);
    t.notMatch(notPretty.payload, /\n/, 'only empty or "true" switches a flag on, as in OPA');
    const metrics = (await send('POST', `${DATA}?metrics=true`, input)).json().metrics;
    for (const timer of ['timer_server_handler_ns', 'timer_rego_query_eval_ns', 'timer_clearance_facts_load_ns']) {
      t.ok(Number.isInteger(metrics[timer]) && metrics[timer] > 0, `${timer} is a positive integer`);
    }
    t.ok((await send('POST', `${DATA}?instrument`, input)).json().metrics, 'instrument gives the metrics');
    const provenance = (await send('POST', `${DATA}?provenance=TRUE`, input)).json().provenance;
    t.same(Object.keys(provenance.bundles), ['clearance']);
    t.equal(provenance.bundles.clearance.revision, policy.engine.revision);
    t.type(provenance.version, 'string');
    const accepted = await send('POST', `${DATA}?explain=full&strict-builtin-errors=true`, input);
    t.equal(accepted.statusCode, 200);
    t.same(Object.keys(accepted.json()).sort(), ['decision_id', 'result']);
    t.equal((await send('POST', `${DATA}?unknown=1`, input)).statusCode, 400, 'an unknown parameter is refused');
  });

  t.test(
    'when the default decision is asked (POST /), then the body is the input, the answer the decision',
    async (t) => {
      const want = await decide(question('std_la', 'c_xero2'));
      const response = await send('POST', '/', question('std_la', 'c_xero2'));
      t.equal(response.statusCode, 200);
      same(t, response.json(), want);
      t.match((await logged(response.json().decision_id)).endpoint, 'opa');
    },
  );

  t.test('when a batch is sent, then each merged input is decided and logged with the batch id', async (t) => {
    const common = { action: 'client.view', resource: { type: 'client', attributes: {} } };
    const inputs = {
      mine: { subject: { id: 'std_sel' }, resource: { id: 'c_myob' } },
      theirs: { subject: { id: 'std_sel' }, resource: { id: 'c_qb' } },
    };
    const response = await send('POST', BATCH, { inputs, common_input: common });
    t.equal(response.statusCode, 200);
    const body = response.json();
    t.notOk('http_status_code' in body.responses.mine, 'an all-200 batch needs no item status');
    same(t, body.responses.mine.result, await decide(question('std_sel', 'c_myob')));
    same(t, body.responses.theirs.result, await decide(question('std_sel', 'c_qb')));
    for (const item of Object.values(body.responses) as Array<{ decision_id: string }>) {
      t.match(await logged(item.decision_id), { endpoint: 'opa', batch_id: body.batch_decision_id });
    }
    const wins = await send('POST', BATCH, {
      inputs: { x: { ...question('std_sel', 'c_qb'), action: 'client.view' } },
      common_input: { action: 'client.edit' },
    });
    t.equal(wins.json().responses.x.result.allow, false);
    t.match(await logged(wins.json().responses.x.decision_id), { action: 'client.view' }, "the input's keys win");
  });

  t.test('when some items cannot be decided, then 207 says so per item; all failing server-side is 500', async (t) => {
    const mixed = await send('POST', BATCH, { inputs: { ok: question('std_sel', 'c_myob'), bad: { subject: {} } } });
    t.equal(mixed.statusCode, 207);
    const { responses } = mixed.json();
    t.equal(responses.ok.http_status_code, '200');
    t.match(responses.bad, { http_status_code: '400', code: 'invalid_parameter', message: /inputs\.bad\./ });
    policy.failDecisions('injected fault');
    t.teardown(() => policy.heal());
    const failed = await send('POST', BATCH, {
      inputs: { a: question('std_sel', 'c_myob'), b: question('std_sel', 'c_qb') },
    });
    t.equal(failed.statusCode, 500);
    for (const item of Object.values(failed.json().responses) as Array<Record<string, unknown>>) {
      t.match(item, { http_status_code: '500', code: 'internal_error', error: { code: 'policy_error' } });
      t.type(item.decision_id, 'string', 'a refused item names its logged decision');
    }
    policy.heal();
    const tooMany = await send('POST', BATCH, {
      inputs: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`i${i}`, question('std_sel', 'c_qb')])),
    });
    t.equal(tooMany.statusCode, 400);
    t.match(tooMany.json(), { code: 'invalid_parameter', error: { details: { field: 'inputs' } } });
    t.equal((await send('POST', BATCH, { inputs: [] })).statusCode, 400);
  });

  t.test('when the OPA TypeScript SDK asks, unchanged, then every call it makes is answered', async (t) => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const seen: string[] = [];
    // The SDK sets Content-Encoding: gzip when asked but sends the body as it is; its fetcher
    // hook (the SDK's own extension point) compresses it, as a gzip-sending client would.
    const httpClient = new HTTPClient({
      fetcher: async (request) => {
        const url = new URL(request.url);
        seen.push(`${request.method} ${url.pathname}`);
        if (request.headers.get('content-encoding') !== 'gzip') return fetch(request);
        const body = gzipSync(Buffer.from(await request.arrayBuffer()));
        return fetch(new Request(request, { body }));
      },
    });
    const opa = new OPAClient(`http://127.0.0.1:${port}`, { headers: auth, sdk: { httpClient } });
    const evaluated = await opa.evaluate<Record<string, unknown>, Decision>(
      'clearance/decision',
      question('std_sel', 'c_qb'),
    );
    same(t, evaluated, await decide(question('std_sel', 'c_qb')));
    const withoutInput = await opa.evaluate<Record<string, unknown>, Decision>('clearance/decision');
    t.match(withoutInput, { allow: false, reasons: [{ code: 'invalid_input' }] });
    const byDefault = await opa.evaluateDefault<Record<string, unknown>, Decision>(question('std_sel', 'c_myob'));
    t.equal(byDefault.allow, true);
    t.same(seen.splice(0), [`POST ${DATA}`, `GET ${DATA}`, 'POST /']);

    const api = new OpaApiClient({ serverURL: `http://127.0.0.1:${port}`, httpClient });
    const gzipped = await api.executePolicyWithInput({
      path: 'clearance/decision',
      requestBody: { input: question('std_la', 'c_xero2') },
      contentEncoding: GzipContentEncoding.Gzip,
      acceptEncoding: GzipAcceptEncoding.Gzip,
    });
    t.match(gzipped.successfulPolicyResponse?.result, { allow: false, reasons: [{ code: 'ledger_access_required' }] });

    seen.length = 0;
    const batch = await opa.evaluateBatch<Record<string, unknown>, Decision>('clearance/decision', {
      a: question('std_sel', 'c_myob'),
      b: question('std_sel', 'c_qb'),
      c: question('std_la', 'c_xero2'),
    });
    t.same(seen, [`POST ${BATCH}`], 'one request for the whole batch, not one per item');
    t.equal((batch.a as Decision).allow, true);
    t.equal((batch.b as Decision).allow, false);
    t.match(batch.c, { reasons: [{ code: 'ledger_access_required' }] });
  });
});
