// The decision endpoints of SPEC §3: decide, batch, list query and the OPA-compatible path.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DecisionEndpoint } from '../data/schema.ts';
import { CACHED, requestedConsistency, tokenTransaction, type Consistency } from '../domain/consistency.ts';
import type { CallContext } from '../domain/decisions.ts';
import { badRequest } from '../errors.ts';
import { attributesRefusal } from '../domain/request-bounds.ts';
import { specRoute } from '../http/openapi.ts';
import type { components } from '../http/openapi-types.ts';

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
    throw badRequest('invalid_request', `${CONSISTENCY_HEADER} must be "fresh" or "at_least=<consistency token>", sent once`, { field: CONSISTENCY_HEADER });
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
  // Every schema (body, each response) is the document's own operation.
  const route = (path: string) => {
    const { url, schema } = specRoute('post', path);
    return { url, options: { onRequest, schema } };
  };

  const decide = route('/v1/decide');
  app.post<{ Body: Schemas['SingleDecideRequest'] }>(decide.url, decide.options, async (request) => {
    const { consistency, ...question } = request.body;
    checkAttributes(question.resource, 'resource.attributes');
    return app.decisions.decide(question, call(request, 'decide', requestedConsistency(consistency, 'consistency')));
  });

  const batch = route('/v1/decide/batch');
  app.post<{ Body: Schemas['BatchRequest'] }>(batch.url, batch.options, async (request) => ({
    results: await app.decisions.decideBatch(request.body.requests, call(request, 'batch', requestedConsistency(request.body.consistency, 'consistency'))),
  }));

  const query = route('/v1/resources/query');
  app.post<{ Body: Schemas['QueryRequest'] }>(query.url, { ...query.options, serializerCompiler: flatJson }, async (request) => {
    const { subject, action, include_denied, consistency } = request.body;
    return app.decisions.queryClients(subject.id, action, include_denied === true, call(request, 'query', requestedConsistency(consistency, 'consistency')));
  });

  const opa = route('/v1/data/clearance/decision');
  app.post<{ Body: Schemas['OpaRequest'] }>(opa.url, opa.options, async (request) => {
    checkAttributes(request.body.input.resource, 'input.resource.attributes');
    const result = await app.decisions.decide(request.body.input, call(request, 'opa', headerConsistency(request)));
    return { result, decision_id: result.decision_id };
  });
}
