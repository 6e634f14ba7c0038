// Policy revisions (scope policy): upload a bundle, list and read revisions and their Rego,
// activate, roll back, replay logged decisions through a revision, and set the shadow revision.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { analyzeImpact, impactFilter, type ImpactProgress } from '../domain/impact.ts';
import { AppError } from '../errors.ts';
import { route } from '../http/route.ts';
import { actorOf } from '../http/write-answers.ts';

/** Largest bundle accepted (413 above). */
export const BUNDLE_LIMIT = 32 * 1024 * 1024;

export default async function policyRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('policy');
  const revisions = app.policyRevisions;
  let replaying = false;

  // Bundles arrive as they are; this plugin's routes alone read these types.
  app.addContentTypeParser(
    ['application/gzip', 'application/x-gzip', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: BUNDLE_LIMIT },
    (_request, body, done) => done(null, body),
  );

  route(app, 'uploadPolicy', {
    onRequest,
    bodyLimit: BUNDLE_LIMIT,
    handler: async (request, reply) => {
      const body = request.body as unknown;
      if (!Buffer.isBuffer(body)) {
        throw new AppError(415, 'unsupported_media_type', 'send the bundle as application/gzip', {
          details: { field: 'Content-Type' },
        });
      }
      const { created, view } = await revisions.upload(actorOf(request), body);
      return reply.code(created ? 201 : 200).send(view);
    },
  });

  route(app, 'listPolicies', { onRequest, handler: async (request) => revisions.list(request.query) });

  route(app, 'getPolicy', { onRequest, handler: async (request) => revisions.get(request.params.revision) });

  route(app, 'getPolicySource', {
    onRequest,
    handler: async (request, reply) => {
      const text = await revisions.source(request.params.revision, request.query.path);
      (reply as unknown as FastifyReply).type('text/plain; charset=utf-8').send(text);
      return reply;
    },
  });

  route(app, 'activatePolicy', {
    onRequest,
    handler: async (request) => revisions.activate(actorOf(request), request.params.revision),
  });

  route(app, 'rollbackPolicy', { onRequest, handler: async (request) => revisions.rollback(actorOf(request)) });

  route(app, 'getPolicyShadow', { onRequest, handler: async () => revisions.shadow() });

  route(app, 'putPolicyShadow', {
    onRequest,
    handler: async (request) => {
      await revisions.setShadow(actorOf(request), request.body.revision);
      return revisions.shadow();
    },
  });

  route(app, 'deletePolicyShadow', {
    onRequest,
    handler: async (request, reply) => {
      await revisions.clearShadow(actorOf(request));
      return reply.code(204).send();
    },
  });

  route(app, 'policyImpact', {
    onRequest,
    // The body is optional: none is every entry, up to the limit.
    preValidation: async (request) => {
      request.body ??= {};
    },
    handler: async (request, reply) => {
      const { revision } = request.params;
      const query = impactFilter(request.body ?? {});
      const candidate = await revisions.candidate(revision);
      // One replay at a time in a process: each holds a database connection for as long as it runs.
      if (replaying)
        throw new AppError(
          409,
          'impact_in_progress',
          'an impact analysis is already running here; try again when it ends',
        );
      replaying = true;
      const done = () => {
        replaying = false;
      };
      const stop = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) stop.abort();
      });
      // One scan through a server-side cursor on PostgreSQL; pages on the embedded engine's one connection.
      const replay = { cursor: app.database.engine === 'postgres', signal: stop.signal };
      const count = (n: number) => {
        app.policy.stats.impactReplays += n;
      };
      if (!(request.headers.accept ?? '').includes('application/x-ndjson')) {
        return analyzeImpact(app.database.longDb, candidate, query, replay, { onReplayed: count }).finally(done);
      }
      // Progress lines while it runs, then the report: for the command line on long replays.
      const lines = new Readable({ read() {} });
      const progress = (p: ImpactProgress) => lines.push(`${JSON.stringify({ progress: p })}\n`);
      analyzeImpact(app.database.longDb, candidate, query, replay, { onProgress: progress, onReplayed: count })
        .finally(done)
        .then(
          (report) => {
            lines.push(`${JSON.stringify({ report })}\n`);
            lines.push(null);
          },
          (error: unknown) => {
            const known = error instanceof AppError;
            if (!known) request.log.error({ err: error }, 'impact analysis failed');
            const body = known
              ? { code: error.code, message: error.message }
              : { code: 'internal_error', message: 'the replay failed' };
            lines.push(`${JSON.stringify({ error: body })}\n`);
            lines.push(null);
          },
        );
      (reply as unknown as FastifyReply).type('application/x-ndjson; charset=utf-8').send(lines);
      return reply;
    },
  });
}
