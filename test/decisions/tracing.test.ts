// OpenTelemetry tracing: a decision request is one span with a child per step (authenticate, load
// the facts, evaluate the policy, enqueue the log entry), the decision id on it; an incoming
// traceparent is continued; refusals and faults are recorded. Off, nothing is recorded.
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import t from 'tap';
import { loadConfig } from '../../service/config.ts';
import { ADMIN_TOKEN, contextApp, seedPractice } from '../helpers/context.ts';
import { faultyPolicy } from '../helpers/faults.ts';
import { eventually } from '../helpers/wait.ts';

const TRACING_ON = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }).tracing;
const STEPS = [
  'clearance.authenticate',
  'clearance.facts.load',
  'clearance.policy.evaluate',
  'clearance.decision_log.enqueue',
];

const ask = (
  app: Awaited<ReturnType<typeof contextApp>>['app'],
  subject: string,
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
    payload: { subject: { id: subject }, action: 'client.view', resource: { type: 'client', id: 'p1-acme' } },
  });

/** The spans of the last request: its server span and the children by name. */
function lastRequest(exporter: InMemorySpanExporter): { root: ReadableSpan; steps: Map<string, ReadableSpan> } {
  const spans = exporter.getFinishedSpans();
  const root = spans.findLast((s) => s.name === 'POST /v1/decide');
  if (root === undefined) throw new Error(`no request span among ${spans.map((s) => s.name).join(', ')}`);
  const { traceId, spanId } = root.spanContext();
  const steps = new Map(
    spans
      .filter((s) => s.spanContext().traceId === traceId && s.parentSpanContext?.spanId === spanId)
      .map((s) => [s.name, s]),
  );
  return { root, steps };
}

t.test('given tracing on, with spans kept in memory', async (t) => {
  const exporter = new InMemorySpanExporter();
  const policy = faultyPolicy();
  const { app, admin } = await contextApp(t, {
    config: { tracing: { ...TRACING_ON, sampler: 'parentbased_always_on' } },
    build: { spanProcessor: new SimpleSpanProcessor({ exporter }), policyEngine: policy.engine },
  });
  await seedPractice(admin, 'p1');
  t.equal((await admin.put('/v1/accounts/p1/users/p1-std/allocations', { client_ids: ['p1-acme'] })).statusCode, 200);

  t.test('when a decision is asked, then its request span has the four steps as children, in one trace', async (t) => {
    exporter.reset();
    const response = await ask(app, 'p1-std');
    t.equal(response.statusCode, 200);
    const answer = response.json() as { decision_id: string; allow: boolean; reasons: unknown[] };
    const { root, steps } = lastRequest(exporter);
    t.same([...steps.keys()].sort(), [...STEPS].sort(), 'each step once, parented by the request span');
    t.equal(root.attributes['clearance.decision_id'], answer.decision_id, 'the decision id on the request span');
    t.equal(root.attributes['clearance.allow'], true);
    t.equal(root.attributes['clearance.reason_codes.count'], answer.reasons.length);
    t.equal(root.attributes['http.response.status_code'], 200);
    const evaluate = steps.get('clearance.policy.evaluate') as ReadableSpan;
    t.equal(evaluate.attributes['clearance.decision_id'], answer.decision_id, 'and on the evaluate span');
    t.equal(evaluate.attributes['clearance.policy.entrypoint'], 'clearance/logged_verdict');
    t.equal(evaluate.attributes['clearance.policy.revision'], policy.engine.revision);
    t.equal(root.status.code, SpanStatusCode.UNSET);
    t.equal(root.resource.attributes['service.name'], 'clearance');
  });

  t.test('when the same decision is asked again, then its facts span says they came from the cache', async (t) => {
    // The change feed may still bring the seed's own writes, each dropping what it changed from the
    // cache: asked again until they have passed, the facts must come from it.
    const loadSpan = () => lastRequest(exporter).steps.get('clearance.facts.load') as ReadableSpan;
    const fromCache = async () => {
      await ask(app, 'p1-std');
      return loadSpan().attributes['clearance.facts.cache'] === 'hit';
    };
    t.ok(await eventually(fromCache, 10_000), 'answered from the cache once the seed has passed');
    const load = loadSpan();
    t.equal(load.attributes['clearance.facts.source'], 'cache');
    t.equal(load.attributes['clearance.facts.cache'], 'hit');
    t.equal(load.attributes['clearance.facts.cache_misses'], 0);
    t.ok((load.attributes['clearance.facts.cache_hits'] as number) >= 4, 'every fact read was a hit');
  });

  t.test('when fresh facts are asked for, then the facts span says they came from the database', async (t) => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/decide',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: {
        subject: { id: 'p1-std' },
        action: 'client.view',
        resource: { type: 'client', id: 'p1-acme' },
        consistency: 'fresh',
      },
    });
    t.equal(response.statusCode, 200);
    const load = lastRequest(exporter).steps.get('clearance.facts.load') as ReadableSpan;
    t.equal(load.attributes['clearance.facts.source'], 'database');
    t.equal(load.attributes['clearance.facts.cache'], 'miss');
  });

  t.test('when a traceparent header comes with the request, then the request span continues that trace', async (t) => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    t.equal((await ask(app, 'p1-std', { traceparent: `00-${traceId}-${parentId}-01` })).statusCode, 200);
    const { root, steps } = lastRequest(exporter);
    t.equal(root.spanContext().traceId, traceId);
    t.equal(root.parentSpanContext?.spanId, parentId);
    t.equal(steps.size, 4);
  });

  t.test('when the subject is unknown, then it is still a decision: a deny with its reason, no error', async (t) => {
    const response = await ask(app, 'nobody');
    t.equal(response.statusCode, 200);
    const { root } = lastRequest(exporter);
    t.equal(root.attributes['clearance.allow'], false);
    t.ok((root.attributes['clearance.reason_codes.count'] as number) >= 1);
    t.equal(root.status.code, SpanStatusCode.UNSET);
  });

  t.test('when the policy faults, then the evaluate span and the request span say ERROR', async (t) => {
    policy.failDecisions('boom');
    t.teardown(() => policy.heal());
    const response = await ask(app, 'p1-std');
    t.equal(response.statusCode, 503);
    const { root, steps } = lastRequest(exporter);
    t.equal(root.status.code, SpanStatusCode.ERROR);
    t.equal(root.attributes['http.response.status_code'], 503);
    t.equal(
      root.attributes['clearance.decision_id'],
      (response.json() as { error: { details: { decision_id: string } } }).error.details.decision_id,
    );
    t.equal(steps.get('clearance.policy.evaluate')?.status.code, SpanStatusCode.ERROR);
    t.ok(steps.has('clearance.decision_log.enqueue'), 'the refusal is logged too');
  });

  t.test('when the token is wrong, then the authenticate span says ERROR and nothing else is made', async (t) => {
    exporter.reset();
    const response = await ask(app, 'p1-std', { authorization: 'Bearer not-a-token-anyone-has' });
    t.equal(response.statusCode, 401);
    const { root, steps } = lastRequest(exporter);
    t.same([...steps.keys()], ['clearance.authenticate']);
    t.equal(steps.get('clearance.authenticate')?.status.code, SpanStatusCode.ERROR);
    t.equal(root.status.code, SpanStatusCode.UNSET, "a 4xx is the caller's error, not the server span's");
  });

  t.test('when a list is queried, then its span has the steps and the decision id', async (t) => {
    exporter.reset();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/resources/query',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { subject: { id: 'p1-std' }, action: 'client.view', resource_type: 'client' },
    });
    t.equal(response.statusCode, 200);
    const root = exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/resources/query') as ReadableSpan;
    t.ok(root);
    t.equal(root.attributes['clearance.decision_id'], (response.json() as { decision_id: string }).decision_id);
    const children = exporter
      .getFinishedSpans()
      .filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId)
      .map((s) => s.name);
    t.same(children.sort(), [...STEPS].sort());
  });

  t.test('when another path is asked (health), then no span is made', async (t) => {
    exporter.reset();
    await app.inject({ method: 'GET', url: '/health' });
    t.same(exporter.getFinishedSpans(), []);
  });
});

t.test('given tracing off, then a decision records no span', async (t) => {
  const exporter = new InMemorySpanExporter();
  const { app, admin } = await contextApp(t, { build: { spanProcessor: new SimpleSpanProcessor({ exporter }) } });
  t.equal(app.tracingEnabled, false);
  await seedPractice(admin, 'p1');
  t.equal((await ask(app, 'p1-std')).statusCode, 200);
  t.same(exporter.getFinishedSpans(), []);
});

t.test('given tracing on at a sampling ratio of 0, then a decision records no span', async (t) => {
  const exporter = new InMemorySpanExporter();
  const { app, admin } = await contextApp(t, {
    config: { tracing: { ...TRACING_ON, sampler: 'traceidratio', ratio: 0 } },
    build: { spanProcessor: new SimpleSpanProcessor({ exporter }) },
  });
  await seedPractice(admin, 'p1');
  t.equal((await ask(app, 'p1-std')).statusCode, 200);
  t.same(exporter.getFinishedSpans(), []);
});
