// The decision endpoints of SPEC §3: decide, batch, list query and the OPA-compatible path.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DecisionEndpoint } from '../data/schema.ts';
import type { CallContext } from '../domain/decisions.ts';
import { ref } from '../http/openapi.ts';
import type { components } from '../http/openapi-types.ts';

type Schemas = components['schemas'];

const errors = { 400: ref('Error'), 401: ref('Error'), 403: ref('Error'), 413: ref('Error'), 503: ref('Error') };

const call = (request: FastifyRequest, endpoint: DecisionEndpoint): CallContext => ({ tokenId: request.principal?.tokenId ?? null, endpoint });

// A list answer is large (about 1 MB for 10,000 clients). fast-json-stringify builds it from
// many small pieces, and V8 walks that rope again for every later use (byte length, encoding):
// more than the serialization itself. JSON.stringify makes one flat string. The handler returns
// exactly the QueryResponse shape, so there is nothing for a schema serializer to filter out.
const flatJson = () => (data: unknown) => JSON.stringify(data);

export default async function decisionRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('decide');

  app.post<{ Body: Schemas['DecideRequest'] }>(
    '/v1/decide',
    { onRequest, schema: { body: ref('DecideRequest'), response: { 200: ref('Decision'), ...errors } } },
    async (request) => app.decisions.decide(request.body, call(request, 'decide')),
  );

  app.post<{ Body: Schemas['BatchRequest'] }>(
    '/v1/decide/batch',
    { onRequest, schema: { body: ref('BatchRequest'), response: { 200: ref('BatchResponse'), ...errors } } },
    async (request) => ({ results: await app.decisions.decideBatch(request.body.requests, call(request, 'batch')) }),
  );

  app.post<{ Body: Schemas['QueryRequest'] }>(
    '/v1/resources/query',
    { onRequest, schema: { body: ref('QueryRequest'), response: { 200: ref('QueryResponse'), ...errors } }, serializerCompiler: flatJson },
    async (request) => {
      const { subject, action, include_denied } = request.body;
      return app.decisions.queryClients(subject.id, action, include_denied === true, call(request, 'query'));
    },
  );

  app.post<{ Body: Schemas['OpaRequest'] }>(
    '/v1/data/clearance/decision',
    { onRequest, schema: { body: ref('OpaRequest'), response: { 200: ref('OpaResponse'), ...errors } } },
    async (request) => {
      const result = await app.decisions.decide(request.body.input, call(request, 'opa'));
      return { result, decision_id: result.decision_id };
    },
  );
}
