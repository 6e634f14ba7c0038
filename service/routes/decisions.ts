// The decision endpoints of SPEC §3: decide, batch, the list query and its reverse, who has access
// (the OPA-compatible paths are opa.ts).
import type { FastifyInstance } from 'fastify';
import { requestedConsistency } from '../domain/consistency.ts';
import { attributesRefusal } from '../domain/request-bounds.ts';
import { callOf } from '../http/decision-calls.ts';
import type { components } from '../http/openapi-types.ts';
import { route } from '../http/route.ts';

type Schemas = components['schemas'];

// A list answer is large (about 1 MB for 10,000 clients). fast-json-stringify builds it from
// many small pieces, and V8 walks that rope again for every later use (byte length, encoding):
// more than the serialization itself. JSON.stringify makes one flat string. The handler returns
// exactly the QueryResponse shape, so there is nothing for a schema serializer to filter out.
const flatJson = () => (data: unknown) => JSON.stringify(data);

/** Throws the 400 for attributes out of bounds (a batch refuses such an item alone, in the domain). */
function checkAttributes(resource: Schemas['Resource'], field: string): void {
  const refusal = attributesRefusal(resource.attributes, field);
  if (refusal !== null) throw refusal;
}

export default async function decisionRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('decide');

  route(app, 'decide', {
    onRequest,
    handler: async (request) => {
      const { consistency, ...question } = request.body;
      checkAttributes(question.resource, 'resource.attributes');
      return app.decisions.decide(
        question,
        callOf(request, 'decide', requestedConsistency(consistency, 'consistency')),
      );
    },
  });

  route(app, 'decideBatch', {
    onRequest,
    handler: async (request) => {
      const consistency = requestedConsistency(request.body.consistency, 'consistency');
      return { results: await app.decisions.decideBatch(request.body.requests, callOf(request, 'batch', consistency)) };
    },
  });

  route(app, 'queryResources', {
    onRequest,
    serializerCompiler: flatJson,
    handler: async (request) => {
      const { subject, action, resource_type: type, include_denied, consistency } = request.body;
      const asked = callOf(request, 'query', requestedConsistency(consistency, 'consistency'));
      return type === 'client'
        ? app.lists.queryClients(subject.id, action, include_denied, asked)
        : app.lists.queryResources(subject.id, action, type, include_denied, asked);
    },
  });

  route(app, 'querySubjects', {
    onRequest,
    serializerCompiler: flatJson,
    handler: async (request) => {
      const { action, resource, include_denied, consistency } = request.body;
      checkAttributes(resource, 'resource.attributes');
      const asked = callOf(request, 'subjects', requestedConsistency(consistency, 'consistency'));
      return app.lists.querySubjects(action, resource, include_denied, asked);
    },
  });
}
