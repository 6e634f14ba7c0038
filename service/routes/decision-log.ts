// The decision log for operators (scope logs): a filtered list, newest first, and one entry.
import type { FastifyInstance } from 'fastify';
import { getDecision, listDecisions } from '../domain/decision-log-reader.ts';
import { notFound } from '../errors.ts';
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
