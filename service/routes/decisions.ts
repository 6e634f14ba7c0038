// The decision endpoints of SPEC §3: decide, batch, list query and the OPA-compatible path.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DecisionEndpoint } from '../data/schema.ts';
import { CACHED, requestedConsistency, tokenTransaction, type Consistency } from '../domain/consistency.ts';
import type { CallContext } from '../domain/decisions.ts';
import { badRequest } from '../errors.ts';
import { attributesRefusal } from '../domain/request-bounds.ts';
import type { components } from '../http/openapi-types.ts';
import { route } from '../http/route.ts';

type Schemas = components['schemas'];

const call = (request: FastifyRequest, endpoint: DecisionEndpoint, consistency: Consistency): CallContext => ({
  tokenId: request.principal?.tokenId ?? null,
  endpoint,
  consistency,
});

/** The OPA path's body is OPA's ({"input": …}), so the consistency comes as a header. */
const CONSISTENCY_HEADER = 'Clearance-Consistency';

/** The header's value: "fresh" or "at_least=<consistency token>", as the body's `consistency` field says it. */
function headerConsistency(request: FastifyRequest): Consistency {
  const value = request.headers[CONSISTENCY_HEADER.toLowerCase()];
  if (value === undefined) return CACHED;
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === 'fresh') return requestedConsistency('fresh', CONSISTENCY_HEADER);
  const token = /^at_least=(.*)$/.exec(text)?.[1];
  if (token === undefined) {
    const message = `${CONSISTENCY_HEADER} must be "fresh" or "at_least=<consistency token>", sent once`;
    throw badRequest('invalid_request', message, { field: CONSISTENCY_HEADER });
  }
  return { kind: 'at_least', transaction: tokenTransaction(token, CONSISTENCY_HEADER) };
}

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
      return app.decisions.decide(question, call(request, 'decide', requestedConsistency(consistency, 'consistency')));
    },
  });

  route(app, 'decideBatch', {
    onRequest,
    handler: async (request) => {
      const consistency = requestedConsistency(request.body.consistency, 'consistency');
      return { results: await app.decisions.decideBatch(request.body.requests, call(request, 'batch', consistency)) };
    },
  });

  route(app, 'queryResources', {
    onRequest,
    serializerCompiler: flatJson,
    handler: async (request) => {
      const { subject, action, include_denied, consistency } = request.body;
      const asked = call(request, 'query', requestedConsistency(consistency, 'consistency'));
      return app.decisions.queryClients(subject.id, action, include_denied, asked);
    },
  });

  route(app, 'opaDecision', {
    onRequest,
    handler: async (request) => {
      checkAttributes(request.body.input.resource, 'input.resource.attributes');
      const result = await app.decisions.decide(request.body.input, call(request, 'opa', headerConsistency(request)));
      return { result, decision_id: result.decision_id };
    },
  });
}
