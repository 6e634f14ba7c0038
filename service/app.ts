// Builds the Fastify application (no listen): plugins, routes and the one error handler.
// Process concerns (config from env, listen, signals) live in server.ts.
import { join } from 'node:path';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './data/connect.ts';
import { seedDemoData } from './data/demo-data.ts';
import { AppError } from './errors.ts';
import { fromDatabaseError } from './domain/audit.ts';
import { ensureBootstrapToken } from './domain/tokens.ts';
import { parseJsonBody } from './http/json-body.ts';
import { patternMeanings, registerSchemas, validatorCompilers } from './http/openapi.ts';
import authPlugin from './plugins/auth.ts';
import contextPlugin from './plugins/context.ts';
import databasePlugin from './plugins/database.ts';
import decisionLogPlugin, { type DecisionLogMaintenanceOptions } from './plugins/decision-log.ts';
import decisionsPlugin from './plugins/decisions.ts';
import factsPlugin from './plugins/facts.ts';
import metricsPlugin from './plugins/metrics.ts';
import policyPlugin from './plugins/policy.ts';
import type { Peers } from './domain/facts.ts';
import type { Policy } from './policy/engine.ts';
import auditRoutes from './routes/audit.ts';
import contextRoutes from './routes/context.ts';
import decisionLogRoutes from './routes/decision-log.ts';
import decisionRoutes from './routes/decisions.ts';
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
    ...(error instanceof AggregateError ? { errors: error.errors.map((e) => (e instanceof Error ? serializeError(e) : e)) } : {}),
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
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large', `the request headers exceed ${maxHeaderSize} bytes`]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout', 'the request was not received in time']
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
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
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
      void (reply as FastifyReply).code(error.statusCode ?? 400).send({ error: { code: 'bad_request', message: error.message } }),
  });

  // A DELETE carries no body, but many clients send Content-Type: application/json on every
  // request; Fastify would refuse the empty body with a 400. PATCH takes RFC 7396 merge patches,
  // which are JSON under their own media type.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, (request, body, done) => {
    if (request.method === 'DELETE' && body === '') return done(null, undefined);
    try {
      return done(null, parseJsonBody(body as string));
    } catch (error) {
      return done(error as Error, undefined);
    }
  });

  const meanings = patternMeanings();
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      return reply.code(error.statusCode).send({
        error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
      });
    }
    if (error.validation) {
      const problems = error.validation.map((v) => {
        const params = v.params as Record<string, unknown>;
        const path = v.instancePath.split('/').filter(Boolean);
        const named = params.missingProperty ?? params.additionalProperty;
        if (typeof named === 'string') path.push(named);
        // records[3].role: array positions in brackets, like the domain's own refusals.
        const field = path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || error.validationContext || 'body';
        const message =
          v.keyword === 'required' ? `${field} is required`
          : v.keyword === 'additionalProperties' ? `${field} is not an accepted field`
          : v.keyword === 'pattern' && meanings[String(params.pattern)] !== undefined ? `${field} ${meanings[String(params.pattern)]}`
          : `${field} ${v.message ?? 'is invalid'}`;
        return { field, message };
      });
      const first = problems[0] ?? { field: 'body', message: 'body is invalid' };
      return reply.code(400).send({
        error: { code: 'invalid_request', message: first.message, details: { field: first.field, problems } },
      });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = request.routeOptions.bodyLimit ?? BODY_LIMIT;
      return reply.code(413).send({ error: { code: 'body_too_large', message: `request body exceeds ${limit} bytes` } });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      const code = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'invalid_json' : 'bad_request';
      return reply.code(error.statusCode).send({ error: { code, message: error.message } });
    }
    // A read that lost the database (a write already says so through its transaction) is
    // unavailable, not a fault of ours.
    const fromDatabase = fromDatabaseError(error);
    if (fromDatabase instanceof AppError) {
      request.log.warn({ err: error }, 'database error');
      return reply.code(fromDatabase.statusCode).send({ error: { code: fromDatabase.code, message: fromDatabase.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: { code: 'internal_error', message: 'internal error; see the service log' } });
  });

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
      .send({ error: { code: 'shutting_down', message: 'the service is stopping; send the request again (to another instance)' } });
  });
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` } }),
  );

  await app.register(metricsPlugin, { processMetrics: options.processMetrics ?? true });
  await app.register(databasePlugin, {
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl === null ? config.dataDir : null,
    pgliteSharedBuffers: config.pgliteSharedBuffers,
    ...(options.database ? { handle: options.database } : {}),
    afterMigrate: async (handle: DatabaseHandle) => {
      if (config.seedDemo) await seedDemoData(handle.db, app.log);
      const token = await ensureBootstrapToken(handle.db, config.adminToken);
      if (token !== null) options.onBootstrapToken?.(token);
    },
  });
  await app.register(policyPlugin, {
    policyDir: config.policyDir,
    ...(options.policyEngine ? { engine: options.policyEngine } : {}),
  });
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
  await app.register(contextPlugin);
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(openApiRoutes);
  await app.register(decisionRoutes);
  await app.register(decisionLogRoutes);
  await app.register(contextRoutes);
  await app.register(tokenRoutes);
  await app.register(auditRoutes);
  // Last of the preClose hooks, so the decision log has begun its stop (and its deadline) first.
  app.addHook('preClose', async () => {
    if (!app.server.listening) return;
    const until = Date.now() + STOP_GRACE_MS;
    while (connections.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  });
  return app;
}
