// The decision log for operators (scope logs): a filtered list, newest first, and one entry.
import type { FastifyInstance } from 'fastify';
import { getDecision, listDecisions } from '../domain/decision-log-reader.ts';
import { DEFAULT_PAGE_LIMIT } from '../domain/paging.ts';
import { notFound } from '../errors.ts';
import { specRoute } from '../http/openapi.ts';
import type { operations } from '../http/openapi-types.ts';

type ListQuery = NonNullable<operations['listDecisions']['parameters']['query']>;
type GetParams = operations['getDecision']['parameters']['path'];

const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export default async function decisionLogRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('logs');

  app.route<{ Querystring: ListQuery }>({
    method: 'GET',
    ...specRoute('get', '/v1/decisions'),
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
        since: date(q.since),
        until: date(q.until),
        limit: q.limit ?? DEFAULT_PAGE_LIMIT,
        cursor: q.cursor,
      });
    },
  });

  app.route<{ Params: GetParams }>({
    method: 'GET',
    ...specRoute('get', '/v1/decisions/{decisionId}'),
    onRequest,
    handler: async (request) => {
      const entry = await getDecision(app.database.longDb, request.params.decisionId);
      if (entry === null) throw notFound('decision_not_found', `no decision log entry ${request.params.decisionId} (it may not be written yet)`);
      return entry;
    },
  });
}
