// OpenTelemetry tracing, off unless configured (config.tracing): then a span per decision request,
// continuing an incoming W3C traceparent, exported over OTLP/HTTP in batches. Off, no provider is
// made, no hook is added and no span object is built: requests carry trace null. The domain makes
// the child spans with @opentelemetry/api alone (domain/spans.ts); this is the one place that
// knows the SDK. The provider is flushed and shut down when the app closes.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../config.ts';
import { failed, type Trace } from '../domain/spans.ts';
import { operationRoute } from '../http/openapi.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace when it is traced and sampled; null otherwise (always, with tracing off). */
    trace: Trace | null;
  }
  interface FastifyInstance {
    /** True when requests are traced (config.tracing.enabled). */
    tracingEnabled: boolean;
  }
}

export interface TracingPluginOptions {
  tracing: TracingConfig;
  /** Where spans go instead of the OTLP exporter (tests: an in-memory exporter behind a simple processor). */
  spanProcessor?: SpanProcessor;
}

/** The operations traced: every decision path (single, batch, lists, OPA's). */
const TRACED_OPERATIONS = [
  'decide',
  'decideBatch',
  'queryResources',
  'querySubjects',
  'opaDefaultDecision',
  'opaDecision',
  'opaDecisionGet',
  'opaBatchDecision',
] as const;

export function samplerOf({ sampler, ratio }: Pick<TracingConfig, 'sampler' | 'ratio'>): Sampler {
  const root = sampler.replace(/^parentbased_/, '');
  const base =
    root === 'always_on'
      ? new AlwaysOnSampler()
      : root === 'always_off'
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(ratio);
  return sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root: base }) : base;
}

async function tracingPlugin(app: FastifyInstance, options: TracingPluginOptions): Promise<void> {
  app.decorateRequest('trace', null);
  app.decorate('tracingEnabled', options.tracing.enabled);
  if (!options.tracing.enabled) return;

  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.tracing.serviceName }),
    sampler: samplerOf(options.tracing),
    spanProcessors: [
      options.spanProcessor ??
        new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: options.tracing.endpoint }) }),
    ],
  });
  const tracer: Tracer = provider.getTracer('clearance');
  const propagator = new W3CTraceContextPropagator();
  const traced = new Set(
    TRACED_OPERATIONS.map((id) => {
      const { method, url } = operationRoute(id);
      return `${method} ${url}`;
    }),
  );
  /** What failed a request answered 5xx, for its span. */
  const errors = new WeakMap<FastifyRequest, Error>();

  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.routeOptions.url;
    if (url === undefined || !traced.has(`${request.method} ${url}`)) return done();
    const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      `${request.method} ${url}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': url, 'url.path': request.url.split('?')[0] },
      },
      parent,
    );
    // A span not sampled records nothing: its steps make no span either.
    if (span.isRecording()) request.trace = { tracer, span };
    done();
  });
  app.addHook('onError', (request, _reply, error, done) => {
    if (request.trace !== null) errors.set(request, error);
    done();
  });
  const end = (request: FastifyRequest, status: number | null) => {
    const trace = request.trace;
    if (trace === null) return;
    request.trace = null;
    if (status !== null) trace.span.setAttribute('http.response.status_code', status);
    if (status === null || status >= 500)
      failed(trace.span, errors.get(request) ?? new Error(status === null ? 'request aborted' : `answered ${status}`));
    trace.span.end();
  };
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, null);
    done();
  });
  // A graceful stop exports what the batch still holds before the process exits.
  app.addHook('onClose', async () => {
    await provider.shutdown().catch((error: unknown) => app.log.warn({ err: error }, 'tracing: shutdown failed'));
  });
  app.log.debug({ endpoint: options.tracing.endpoint, sampler: options.tracing.sampler }, 'tracing on');
}

export default fp(tracingPlugin, { name: 'tracing', fastify: '5.x' });
