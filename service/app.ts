// Builds the Fastify application (no listen): plugins, routes and the one error handler.
// Process concerns (config from env, listen, signals) live in server.ts.
import { join } from 'node:path';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './data/connect.ts';
import { seedDemoData } from './data/demo-data.ts';
import { ensureBootstrapToken } from './domain/tokens.ts';
import { parseJsonBody } from './http/json-body.ts';
import { errorHandler } from './http/errors.ts';
import { AJV_OPTIONS, registerSchemas, validatorCompilers } from './http/openapi.ts';
import authPlugin from './plugins/auth.ts';
import consolePlugin from './plugins/console.ts';
import recordsPlugin from './plugins/records.ts';
import databasePlugin from './plugins/database.ts';
import decisionLogPlugin, { type DecisionLogMaintenanceOptions } from './plugins/decision-log.ts';
import decisionsPlugin from './plugins/decisions.ts';
import factsPlugin from './plugins/facts.ts';
import metricsPlugin from './plugins/metrics.ts';
import policyPlugin from './plugins/policy.ts';
import tracingPlugin from './plugins/tracing.ts';
import { bundleVerifier } from './policy/bundle-signature.ts';
import type { Peers } from './domain/facts.ts';
import type { Policy } from './policy/engine.ts';
import accessReviewRoutes from './routes/access-review.ts';
import auditRoutes from './routes/audit.ts';
import recordRoutes from './routes/records/index.ts';
import decisionLogRoutes from './routes/decision-log.ts';
import decisionRoutes from './routes/decisions.ts';
import opaRoutes from './routes/opa.ts';
import policyRoutes from './routes/policies.ts';
import healthRoutes from './routes/health.ts';
import metricsRoutes from './routes/metrics.ts';
import openApiRoutes from './routes/openapi.ts';
import tokenRoutes from './routes/tokens.ts';

export interface BuildOptions {
  config: Config;
  /** A database handle to use instead of opening one from config (tests). */
  database?: DatabaseHandle;
  /** A policy engine to use instead of loading one from config.policyDir (tests). */
  policyEngine?: Policy;
  logger?: FastifyServerOptions['logger'];
  /** Called once with a newly made bootstrap admin token, so it can be shown to the operator. */
  onBootstrapToken?: (token: string) => void;
  /** Process metrics (CPU, memory, event loop, GC) in /metrics; default true. */
  processMetrics?: boolean;
  /** Tests: the decision log's maintenance (partitions, retention, spill replay) more often than hourly, on a clock they move. */
  decisionLogMaintenance?: DecisionLogMaintenanceOptions;
  /** Tests: where spans go when config.tracing is on, instead of the OTLP exporter. */
  spanProcessor?: SpanProcessor;
  /** The other workers of this process tree, whose caches a write must reach before it is answered. */
  peers?: Peers;
}

/** Largest request body accepted, in bytes (a batch of 1000 decisions fits comfortably; bulk syncs allow more). */
export const BODY_LIMIT = 4 * 1024 * 1024;

/**
 * Errors in the log: type, message, code, stack and causes, never the objects a driver hangs on
 * them (pg attaches its whole client, connection parameters included).
 */
export function serializeError(error: Error): { type: string; message: string; stack: string; [key: string]: unknown } {
  // Whatever else is logged under err passes as it is.
  if (!(error instanceof Error)) return error;
  const { code } = error as { code?: unknown };
  return {
    type: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    stack: error.stack ?? '',
    ...(error instanceof AggregateError
      ? { errors: error.errors.map((e) => (e instanceof Error ? serializeError(e) : e)) }
      : {}),
    ...(error.cause instanceof Error ? { cause: serializeError(error.cause) } : {}),
  };
}

/**
 * How long a stopping server keeps the connections it has (Node closes idle kept-alive ones the
 * moment it stops listening, so a request already on its way over one would meet a reset). Within
 * it every request is answered 503 shutting_down with Connection: close, which ends its connection
 * cleanly; it ends early once no connection is left.
 */
const STOP_GRACE_MS = 2000;

/** The one error shape, for what fails before Fastify has a request: Node's HTTP parser refusing it. */
function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', `the request headers exceed ${maxHeaderSize} bytes`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request was not received in time']
        : [400, 'bad_request', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export async function buildApp(options: BuildOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel, serializers: { err: serializeError } },
    bodyLimit: BODY_LIMIT,
    // Ids in paths are up to 128 characters; a longer one must reach validation (400 naming it),
    // not stop at the router's default of 100 (414).
    routerOptions: { maxParamLength: 1024 },
    // Bodies are checked as sent: no silent type coercion, and unknown fields are refused, not dropped.
    ajv: AJV_OPTIONS,
    // Query strings and path parameters are text by nature: those are read as their schema's type.
    schemaController: { compilersFactory: { buildValidator: validatorCompilers } },
    clientErrorHandler,
    // The database plugin opens the embedded engine, which on a first start runs initdb: on a busy
    // machine that outlasts Fastify's default of 10 s per plugin, and the start would fail.
    pluginTimeout: 300_000,
    // Fastify's own 503 while closing has another shape; the onRequest hook below answers instead.
    return503OnClosing: false,
    // What the router refuses (a malformed URL, a path parameter over maxParamLength) in the error shape.
    frameworkErrors: (error, _request, reply) =>
      void (reply as FastifyReply)
        .code(error.statusCode ?? 400)
        .send({ error: { code: 'bad_request', message: error.message } }),
  });

  // A DELETE carries no body, but many clients send Content-Type: application/json on every
  // request; Fastify would refuse the empty body with a 400. PATCH takes RFC 7396 merge patches,
  // which are JSON under their own media type.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    (request, body, done) => {
      if (request.method === 'DELETE' && body === '') return done(null, undefined);
      try {
        return done(null, parseJsonBody(body as string));
      } catch (error) {
        return done(error as Error, undefined);
      }
    },
  );

  app.setErrorHandler(errorHandler());

  // A graceful stop (app.close(), at SIGTERM/SIGINT): from its first step, nothing more is decided
  // or written; what is already in flight finishes.
  let stopping = false;
  app.addHook('preClose', async () => {
    stopping = true;
  });
  // A callback hook, not an async one: it runs on every request.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!stopping) return done();
    reply
      .code(503)
      .header('connection', 'close')
      .send({
        error: {
          code: 'shutting_down',
          message: 'the service is stopping; send the request again (to another instance)',
        },
      });
  });
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` } }),
  );

  await app.register(tracingPlugin, {
    tracing: config.tracing,
    ...(options.spanProcessor ? { spanProcessor: options.spanProcessor } : {}),
  });
  await app.register(metricsPlugin, { processMetrics: options.processMetrics ?? true });
  await app.register(consolePlugin, { consoleDir: config.consoleDir });
  // The policy is read from the database once it is migrated; the plugin that serves it comes after
  // the database's, so the step after migrating waits for it to be there.
  let policyRegistered!: () => void;
  const policyPlugged = new Promise<void>((resolve) => {
    policyRegistered = resolve;
  });
  await app.register(databasePlugin, {
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl === null ? config.dataDir : null,
    pgliteSharedBuffers: config.pgliteSharedBuffers,
    ...(options.database ? { handle: options.database } : {}),
    afterMigrate: async (handle: DatabaseHandle) => {
      if (config.seedDemo) await seedDemoData(handle.db, app.log);
      const token = await ensureBootstrapToken(handle.db, config.adminToken);
      if (token !== null) options.onBootstrapToken?.(token);
      await policyPlugged;
      await app.startPolicy(handle);
    },
  });
  await app.register(policyPlugin, {
    policyDir: config.policyDir,
    // The embedded engine is for development: the local build is the policy being worked on.
    takeOverLocalBuild: config.databaseUrl === null,
    watch: config.policyWatch,
    verify: bundleVerifier(config.policyVerifyKey),
    ...(options.policyEngine ? { engine: options.policyEngine } : {}),
  });
  policyRegistered();
  registerSchemas(app);
  await app.register(decisionLogPlugin, {
    ...config.decisionLog,
    spillDir: join(config.dataDir, 'decision-log-spill'),
    ...(options.decisionLogMaintenance ? { maintenance: options.decisionLogMaintenance } : {}),
  });
  // Token rows are read through the fact cache, so auth comes after the facts plugin.
  await app.register(factsPlugin, { factCacheMaxEntries: config.factCacheMaxEntries, peers: options.peers ?? null });
  await app.register(decisionsPlugin);
  await app.register(authPlugin, { adminToken: config.adminToken });
  await app.register(recordsPlugin);
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(openApiRoutes);
  await app.register(decisionRoutes);
  await app.register(opaRoutes);
  await app.register(accessReviewRoutes);
  await app.register(decisionLogRoutes);
  await app.register(recordRoutes);
  await app.register(tokenRoutes);
  await app.register(auditRoutes);
  await app.register(policyRoutes);
  // Last of the preClose hooks, so the decision log has begun its stop (and its deadline) first.
  app.addHook('preClose', async () => {
    if (!app.server.listening) return;
    const until = Date.now() + STOP_GRACE_MS;
    while (connections.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  });
  return app;
}
