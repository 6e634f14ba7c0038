// Binds a handler to one operation of the OpenAPI document, by its operationId: the method, the
// URL and every schema (params, query, body, responses) come from the document, and the request
// and the answer are typed from the generated types, so a view that drifts from it fails tsc.
//
//   route(app, 'getToken', {
//     onRequest: app.requireScope('admin'),
//     handler: async (request) => tokens.get(callerOf(request), request.params.tokenId),
//   });
//
// - request.params, request.query and request.body are the operation's; query parameters with a
//   default in the document (FILLED_QUERY) are set, the validator fills them in.
// - The handler returns one of the operation's 2xx bodies (answered 200), or answers another
//   status itself and returns the reply: `return reply.code(201).send(created)`,
//   `return reply.code(204).send()`; reply.code(n).send(body) is typed by the response for n.
// - A write's answer may leave out consistency_token: answerWithConsistencyToken (write-answers.ts),
//   registered by the routes' plugin, adds it once the write is committed.
// - Other route options (bodyLimit, serializerCompiler, …) pass through to Fastify as they are:
//
//   route(app, 'putUser', {
//     onRequest,
//     handler: async (request, reply) => {
//       const { accountId, userId } = request.params;
//       const written = await users.put(actorOf(request), accountId, userId, request.body, inPath('userId'));
//       return reply.code(written.outcome === 'created' ? 201 : 200).send(written.record);
//     },
//   });
//   route(app, 'syncUsers', { onRequest, bodyLimit: SYNC_BODY_LIMIT, handler: async (request) => … });
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  RouteHandlerMethod,
  RouteShorthandOptions,
} from 'fastify';
import { operationRoute } from './openapi.ts';
import type { operations } from './openapi-types.ts';

export type OperationId = keyof operations;

/**
 * The query parameters the document gives a default. They are typed as always set, and route()
 * refuses an operation whose query defaults are not exactly these, so the two cannot drift.
 */
const FILLED_QUERY = ['limit', 'format', 'bucket'] as const;
type Filled = (typeof FILLED_QUERY)[number];

type ParametersIn<Id extends OperationId, In extends 'path' | 'query'> = NonNullable<operations[Id]['parameters'][In]>;
type WithFilled<Query> = Query extends object
  ? Omit<Query, Filled> & Required<Pick<Query, Filled & keyof Query>>
  : Query;
type Content<Part> = Part extends { content: infer C } ? C[keyof C] : undefined;
type Responses<Id extends OperationId> = operations[Id]['responses'];

/** The body as a handler gives it: the consistency token of a write is added on the way out. */
type Unstamped<Body> = Body extends { consistency_token: unknown } ? Omit<Body, 'consistency_token'> : Body;

/** What a handler may send, by status: the document's response bodies (undefined: no body, as a 204). */
type ReplyOf<Id extends OperationId> = {
  [Status in keyof Responses<Id>]: Unstamped<Content<Responses<Id>[Status]>>;
};

/** Fastify's route generics for the operation. */
export interface RouteTypes<Id extends OperationId> {
  Params: ParametersIn<Id, 'path'>;
  Querystring: WithFilled<ParametersIn<Id, 'query'>>;
  Body: Content<NonNullable<operations[Id]['requestBody']>>;
  Reply: ReplyOf<Id>;
}

/** The bodies of the operation's 2xx responses: what a handler may return. */
export type Answer<Id extends OperationId> = {
  [Status in keyof Responses<Id>]: `${Status & number}` extends `2${string}` ? ReplyOf<Id>[Status] : never;
}[keyof Responses<Id>];

export type OperationRequest<Id extends OperationId> = FastifyRequest<RouteTypes<Id>>;
export type OperationReply<Id extends OperationId> = FastifyReply<RouteTypes<Id>>;

export interface OperationOptions<Id extends OperationId> extends Omit<RouteShorthandOptions, 'schema'> {
  handler: (request: OperationRequest<Id>, reply: OperationReply<Id>) => Promise<Returned<Id>>;
}

/** A body of a 2xx response, or the reply when the handler sent the answer itself. */
type Returned<Id extends OperationId> = Exclude<Answer<Id>, undefined> | OperationReply<Id>;

/** Throws unless the operation's query parameters with a default are exactly those in FILLED_QUERY. */
function checkFilledQuery(operationId: OperationId, schema: FastifySchema): void {
  const query = schema.querystring as { properties?: Record<string, { default?: unknown }> } | undefined;
  for (const [name, property] of Object.entries(query?.properties ?? {})) {
    const typedFilled = (FILLED_QUERY as readonly string[]).includes(name);
    if (typedFilled === (property.default !== undefined)) continue;
    const problem = typedFilled ? 'has no default, yet is in FILLED_QUERY' : 'has a default: add it to FILLED_QUERY';
    throw new Error(`route ${operationId}: query parameter ${name} ${problem}`);
  }
}

// NoInfer: Id comes from the operationId alone. Inferred from the handler as well, it would be
// unresolved while the handler is checked, and `status: 'ok'` would widen to string.
export function route<Id extends OperationId>(
  app: FastifyInstance,
  operationId: Id,
  options: NoInfer<OperationOptions<Id>>,
): void {
  const { method, url, schema } = operationRoute(operationId);
  checkFilledQuery(operationId, schema);
  // Fastify's typing of a route with a Reply map admits returning a body but not the reply, which
  // is how a 201 or 204 is answered; OperationOptions types both.
  app.route({ ...options, method, url, schema, handler: options.handler as unknown as RouteHandlerMethod });
}
