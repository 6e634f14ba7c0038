// The decision log for operators (scope logs): a filtered list, newest first, and one entry.
import type { FastifyInstance } from 'fastify';
import { getDecision, listDecisions } from '../domain/decision-log-reader.ts';
import { notFound } from '../errors.ts';
import { parametersSchema, ref } from '../http/openapi.ts';
import type { operations } from '../http/openapi-types.ts';

type ListQuery = NonNullable<operations['listDecisions']['parameters']['query']>;
type GetParams = operations['getDecision']['parameters']['path'];

const errors = { 400: ref('Error'), 401: ref('Error'), 403: ref('Error'), 503: ref('Error') };
const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export default async function decisionLogRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('logs');

  app.get<{ Querystring: ListQuery }>(
    '/v1/decisions',
    {
      onRequest,
      schema: { querystring: parametersSchema('/v1/decisions', 'get', 'query'), response: { 200: ref('DecisionLogPage'), ...errors } },
    },
    async (request) => {
      const q = request.query;
      return listDecisions(app.database.db, {
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
        limit: q.limit ?? 100,
        cursor: q.cursor,
      });
    },
  );

  app.get<{ Params: GetParams }>(
    '/v1/decisions/:decisionId',
    {
      onRequest,
      schema: {
        params: parametersSchema('/v1/decisions/{decisionId}', 'get', 'path'),
        response: { 200: ref('DecisionLogEntry'), 404: ref('Error'), ...errors },
      },
    },
    async (request) => {
      const entry = await getDecision(app.database.db, request.params.decisionId);
      if (entry === null) throw notFound('decision_not_found', `no decision log entry ${request.params.decisionId} (it may not be written yet)`);
      return entry;
    },
  );
}
