// The decision log for operators (scope logs): a filtered list, newest first, its export as a
// file, its figures over a time window, one entry, and a replay of one.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DecisionLogMatch } from '../data/decision-log.ts';
import { DecisionLogExports } from '../domain/decision-log-export.ts';
import { getDecision, listDecisions } from '../domain/decision-log-reader.ts';
import { decisionStats } from '../domain/decision-log-stats.ts';
import { replayDecision } from '../domain/decision-replay.ts';
import { AppError, notFound } from '../errors.ts';
import { sendDownload } from '../http/download.ts';
import type { OperationRequest } from '../http/route.ts';
import { route } from '../http/route.ts';
import { actorOf } from '../http/write-answers.ts';

const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

/** The filters of the list and the export (their query parameters are the same, from the document). */
const matchOf = ({ query: q }: OperationRequest<'listDecisions' | 'exportDecisions'>): DecisionLogMatch => ({
  subjectId: q.subject_id,
  action: q.action,
  resourceType: q.resource_type,
  resourceId: q.resource_id,
  allow: q.allow,
  reasonCode: q.reason_code,
  policyRevision: q.policy_revision,
  endpoint: q.endpoint,
  batchId: q.batch_id,
  tokenId: q.token_id,
  shadowDiffers: q.shadow_differs,
  since: date(q.since),
  until: date(q.until),
});

export default async function decisionLogRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('logs');
  // One scan through a server-side cursor on PostgreSQL; pages on the embedded engine's one connection.
  const exports = new DecisionLogExports(
    app.database.longDb,
    app.recordStore.writer,
    app.database.engine === 'postgres',
  );

  route(app, 'listDecisions', {
    onRequest,
    handler: async (request) =>
      listDecisions(app.database.longDb, {
        ...matchOf(request),
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  });

  route(app, 'decisionStats', {
    onRequest,
    handler: async (request) => {
      const { since, until, bucket } = request.query;
      return decisionStats(app.database.longDb, { since: date(since), until: date(until), bucket });
    },
  });

  route(app, 'exportDecisions', {
    onRequest,
    // Fastify's HEAD for a GET runs the handler and drops the body: a whole export (audited, a
    // connection held) for nothing. A HEAD is 404 instead.
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const { format, ...asked } = request.query;
      const started = await exports.start(actorOf(request), format, matchOf(request), asked);
      // A stream, which the document's string body stands for.
      sendDownload(reply as unknown as FastifyReply, { format, ...started });
      return reply;
    },
  });

  route(app, 'replayDecision', {
    onRequest,
    // The body is optional: none is the active revision.
    preValidation: async (request) => {
      request.body ??= {};
    },
    handler: async (request) => {
      const revision = request.body?.revision;
      return replayDecision(app.database.longDb, request.params.decisionId, async () => {
        if (revision !== undefined) return app.policyRevisions.candidate(revision);
        const engine = app.policy.engine;
        if (engine === null) throw new AppError(503, 'policy_error', 'no policy is loaded');
        return engine;
      });
    },
  });

  route(app, 'getDecision', {
    onRequest,
    handler: async (request) => {
      const { decisionId } = request.params;
      const entry = await getDecision(app.database.longDb, decisionId);
      if (entry === null) {
        throw notFound('decision_not_found', `no decision log entry ${decisionId} (it may not be written yet)`);
      }
      return entry;
    },
  });
}
