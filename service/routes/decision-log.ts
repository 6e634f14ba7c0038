// The decision log for operators (scope logs): a filtered list, newest first, and one entry.
import type { FastifyInstance } from 'fastify';
import { getDecision, listDecisions } from '../domain/decision-log-reader.ts';
import { replayDecision } from '../domain/decision-replay.ts';
import { AppError, notFound } from '../errors.ts';
import { route } from '../http/route.ts';

const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export default async function decisionLogRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('logs');

  route(app, 'listDecisions', {
    onRequest,
    handler: async (request) => {
      const q = request.query;
      return listDecisions(app.database.longDb, {
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
        limit: q.limit,
        cursor: q.cursor,
      });
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
