// Clearance against a real OPA server (`opa run --server`) on the same policy, call for call: the
// Data API by POST and GET, gzip, missing input, OPA's query parameters, the default decision, a
// malformed body, and each item of a batch against OPA's own answer for that input. OPA gets the
// facts inlined in its input (the input Clearance's policy sees, as bench/ gives it), Clearance
// gets the question and loads them. Compared: status codes, the envelope's fields and their types,
// and the decisions. The differences README "OPA compatibility" lists are asserted as such.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { FactStore } from '../../service/domain/facts.ts';
import { PolicyInputBuilder, type DecideRequest } from '../../service/domain/policy-input.ts';
import { buildTestApp } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import { eventually } from '../helpers/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const OPA = existsSync(join(ROOT, '.tools/bin/opa')) ? join(ROOT, '.tools/bin/opa') : 'opa';
const DATA = '/v1/data/clearance/decision';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown> | null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** OPA's server on the policy's sources as a bundle (as the bundle's sources; OPA's Go server cannot run its WebAssembly), decision ids on (as with decision logging) and clearance/decision as its default decision. */
async function opaServer(t: Test): Promise<string> {
  const port = await freePort();
  const child = spawn(
    OPA,
    [
      'run',
      '--server',
      '--addr',
      `127.0.0.1:${port}`,
      '--skip-version-check',
      '--log-level',
      'error',
      '--set',
      'decision_logs.console=true',
      '--set',
      'default_decision=clearance/decision',
      '--ignore',
      '*_test.rego',
      '--bundle',
      join(ROOT, 'policies/clearance'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let errors = '';
  child.stderr?.on('data', (chunk) => {
    errors += chunk;
  });
  t.teardown(() => {
    child.kill();
  });
  const origin = `http://127.0.0.1:${port}`;
  const ready = await eventually(async () => {
    if (child.exitCode !== null) return true;
    return (await fetch(`${origin}/health`).catch(() => null))?.ok === true;
  }, 30_000);
  if (!ready || child.exitCode !== null) throw new Error(`opa did not start: ${errors}`);
  return origin;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: Record<string, unknown> | null = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, text, body };
}

/** Field → JSON type of a body (null for an absent body), for comparing envelopes. */
const shape = (body: Record<string, unknown> | null) =>
  body === null
    ? null
    : Object.fromEntries(
        Object.entries(body).map(([key, value]) => [
          key,
          value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value,
        ]),
      );

/** The decision as OPA's policy states it: allow and reasons (Clearance adds decision_id and policy_revision). */
const decisionOf = (result: unknown) => {
  const { allow, reasons } = result as { allow: unknown; reasons: unknown };
  return { allow, reasons };
};

t.test('given the fixture data set, Clearance and an OPA server on the same policy', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide']);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const clearance = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const opa = await opaServer(t);
  const builder = new PolicyInputBuilder(new FactStore(database, 0));
  const json = { 'content-type': 'application/json' };
  const authorized = { authorization: `Bearer ${token}`, ...json };

  const questions: DecideRequest[] = [
    { subject: { id: 'std_sel' }, action: 'client.view', resource: { type: 'client', id: 'c_myob' } },
    { subject: { id: 'std_sel' }, action: 'client.view', resource: { type: 'client', id: 'c_qb' } },
    { subject: { id: 'std_la' }, action: 'client.view', resource: { type: 'client', id: 'c_xero2' } },
    { subject: { id: 'std_ls' }, action: 'client.edit', resource: { type: 'client', id: 'c_xero3' } },
    { subject: { id: 'ghost' }, action: 'client.view', resource: { type: 'client', id: 'c_qb' } },
    { subject: { id: 'std_sel' }, action: 'no.such.action', resource: { type: 'client', id: 'c_qb' } },
    { subject: { id: 'std_sel' }, action: 'client.view', resource: { type: 'client', id: 'nowhere' } },
  ];
  const inputs = await Promise.all(questions.map((q) => builder.build(q)));

  /** The same call to both: Clearance with the question, OPA with the full input. */
  const both = async (
    path: string,
    make: (input: unknown) => {
      query?: string;
      body?: string | Buffer;
      headers?: Record<string, string>;
      method?: string;
    },
    i: number | null,
  ) => {
    const ours = make(i === null ? undefined : questions[i]);
    const theirs = make(i === null ? undefined : inputs[i]);
    const request = (origin: string, part: typeof ours, headers: Record<string, string>) =>
      call(`${origin}${path}${part.query ?? ''}`, {
        method: part.method ?? (part.body === undefined ? 'GET' : 'POST'),
        headers: { ...headers, ...part.headers },
        ...(part.body === undefined ? {} : { body: part.body }),
      });
    return { ours: await request(clearance, ours, authorized), theirs: await request(opa, theirs, json) };
  };

  const sameEnvelope = (t: Test, ours: Answer, theirs: Answer, what: string) => {
    t.equal(ours.status, theirs.status, `${what}: same status`);
    t.same(shape(ours.body), shape(theirs.body), `${what}: same fields, of the same types`);
    // Both gzip an answer of 1024 bytes or more for a client that accepts gzip (fetch does).
    const gzipped = (answer: Answer) => answer.headers.get('content-encoding') === 'gzip';
    t.equal(gzipped(ours), Buffer.byteLength(ours.text) >= 1024, `${what}: Clearance gzips by OPA's rule`);
    t.equal(gzipped(theirs), Buffer.byteLength(theirs.text) >= 1024, `${what}: OPA gzips by that rule`);
  };

  t.test('when each question is asked by POST, GET and gzip POST, then the answers agree', async (t) => {
    const variants = {
      post: (input: unknown) => ({ body: JSON.stringify({ input }) }),
      get: (input: unknown) => ({ query: `?input=${encodeURIComponent(JSON.stringify(input))}` }),
      gzip: (input: unknown) => ({
        body: gzipSync(JSON.stringify({ input })),
        headers: { 'content-encoding': 'gzip' },
      }),
      'gzip answer': (input: unknown) => ({ body: JSON.stringify({ input }), headers: { 'accept-encoding': 'gzip' } }),
    };
    for (const [name, make] of Object.entries(variants)) {
      for (const i of questions.keys()) {
        const { ours, theirs } = await both(DATA, make, i);
        const what = `${name} ${JSON.stringify(questions[i])}`;
        sameEnvelope(t, ours, theirs, what);
        t.same(decisionOf(ours.body?.result), decisionOf(theirs.body?.result), `${what}: same decision`);
      }
    }
  });

  t.test('when the input is missing, then both answer the default decision (and warn on a POST)', async (t) => {
    for (const [name, make] of Object.entries({
      'POST {}': () => ({ body: '{}' }),
      'POST input null': () => ({ body: '{"input": null}' }),
      'GET without input': () => ({}),
    })) {
      const { ours, theirs } = await both(DATA, make, null);
      sameEnvelope(t, ours, theirs, name);
      t.same(decisionOf(ours.body?.result), decisionOf(theirs.body?.result), `${name}: same decision`);
      t.same(ours.body?.warning, theirs.body?.warning, `${name}: same warning`);
    }
  });

  t.test('when OPA query parameters are given, then both answer with the same envelope', async (t) => {
    for (const query of [
      '?pretty',
      '?pretty=true',
      '?pretty=1',
      '?metrics',
      '?instrument=true',
      '?provenance',
      '?strict-builtin-errors',
    ]) {
      const { ours, theirs } = await both(DATA, (input) => ({ query, body: JSON.stringify({ input }) }), 0);
      sameEnvelope(t, ours, theirs, query);
      t.equal(ours.text.includes('\n  "result"'), theirs.text.includes('\n  "result"'), `${query}: indented alike`);
      t.same(decisionOf(ours.body?.result), decisionOf(theirs.body?.result), `${query}: same decision`);
      for (const timer of ['timer_server_handler_ns', 'timer_rego_query_eval_ns']) {
        const metrics = (body: Answer['body']) => (body?.metrics as Record<string, unknown> | undefined)?.[timer];
        t.equal(typeof metrics(ours.body), typeof metrics(theirs.body), `${query}: ${timer} alike`);
      }
      const bundles = (body: Answer['body']) =>
        Object.values((body?.provenance as { bundles?: object })?.bundles ?? {});
      t.same(
        bundles(ours.body).map((b) => typeof (b as { revision: unknown }).revision),
        bundles(theirs.body).map((b) => typeof (b as { revision: unknown }).revision),
        `${query}: provenance names one bundle revision alike`,
      );
    }
    // explain: OPA returns its evaluation trace; a WebAssembly evaluation keeps none (README).
    const { ours, theirs } = await both(
      DATA,
      (input) => ({ query: '?explain=full', body: JSON.stringify({ input }) }),
      0,
    );
    t.equal(ours.status, theirs.status);
    t.ok(
      'explanation' in (theirs.body ?? {}) && !('explanation' in (ours.body ?? {})),
      'explain: the documented difference',
    );
    t.same(decisionOf(ours.body?.result), decisionOf(theirs.body?.result));
  });

  t.test('when the default decision is asked (POST /), then both answer the decision document', async (t) => {
    for (const i of questions.keys()) {
      const { ours, theirs } = await both('/', (input) => ({ body: JSON.stringify(input) }), i);
      t.equal(ours.status, theirs.status);
      t.same(decisionOf(ours.body), decisionOf(theirs.body), `POST / ${JSON.stringify(questions[i])}`);
    }
  });

  t.test('when the body is not JSON, then both refuse it with OPA code invalid_parameter', async (t) => {
    for (const body of ['{"input": ', 'not json']) {
      const { ours, theirs } = await both(DATA, () => ({ body }), null);
      t.equal(ours.status, 400);
      t.equal(theirs.status, 400);
      t.equal(ours.body?.code, theirs.body?.code);
    }
  });

  t.test('when a batch is sent, then each item is what OPA answers for that input alone', async (t) => {
    const batch = (inputs: Record<string, unknown>, common?: unknown) =>
      call(`${clearance}/v1/batch/data/clearance/decision`, {
        method: 'POST',
        headers: authorized,
        body: JSON.stringify({ inputs, ...(common === undefined ? {} : { common_input: common }) }),
      });
    const opaSingle = async (input: unknown) =>
      (await call(`${opa}${DATA}`, { method: 'POST', headers: json, body: JSON.stringify({ input }) })).body;
    const allOk = await batch(Object.fromEntries(questions.map((q, i) => [`q${i}`, q])));
    t.equal(allOk.status, 200);
    const responses = allOk.body?.responses as Record<string, { result: unknown; decision_id: unknown }>;
    for (const i of questions.keys()) {
      const theirs = await opaSingle(inputs[i]);
      t.same(decisionOf(responses[`q${i}`]?.result), decisionOf(theirs?.result), `batch item q${i}`);
      t.same(shape(responses[`q${i}`] ?? null), shape(theirs), `batch item q${i}: an item is OPA's single answer`);
    }
    const mixed = await batch(
      { good: { subject: { id: 'std_sel' }, resource: { id: 'c_qb' } }, bad: { subject: 5 } },
      {
        action: 'client.view',
        resource: { type: 'client' },
      },
    );
    t.equal(mixed.status, 207);
    const items = mixed.body?.responses as Record<string, Record<string, unknown>>;
    t.same(
      decisionOf(items.good?.result),
      decisionOf((await opaSingle(inputs[1]))?.result),
      'the merged item decided as OPA',
    );
    t.match(items.bad, { http_status_code: '400', code: 'invalid_parameter' });
    const notInputs = await batch([] as unknown as Record<string, unknown>);
    t.equal(notInputs.status, 400);
    t.equal(notInputs.body?.code, 'invalid_parameter');
    const theirBatch = await call(`${opa}/v1/batch/data/clearance/decision`, {
      method: 'POST',
      headers: json,
      body: '{"inputs": {}}',
    });
    t.equal(theirBatch.status, 404, 'OPA itself has no batch API (Enterprise OPA has; its shape is what we serve)');
  });
});
