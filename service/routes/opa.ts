// OPA's API on the decision path, so OPA clients and SDKs work unchanged: the Data API (POST and
// GET /v1/data/clearance/decision), the default decision (POST /) and Enterprise OPA's batch API
// (POST /v1/batch/data/clearance/decision), with OPA's query parameters, gzip both ways and OPA's
// error shape. README "OPA compatibility" says what is the same and what differs, and why.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createGunzip, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DecisionAnswer, Timings } from '../domain/decisions.ts';
import type { DecideRequest } from '../domain/policy-input.ts';
import { attributesRefusal } from '../domain/request-bounds.ts';
import { AppError, badRequest } from '../errors.ts';
import { errorBody, errorHandler, invalidRequest } from '../http/errors.ts';
import { parseJsonBody } from '../http/json-body.ts';
import { schemaValidator } from '../http/openapi.ts';
import type { components } from '../http/openapi-types.ts';
import { route } from '../http/route.ts';
import { callOf, headerConsistency } from '../http/decision-calls.ts';

type Schemas = components['schemas'];
type OpaQuery = { pretty?: string; metrics?: string; instrument?: string; provenance?: string };

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** OPA gzips an answer of at least this many bytes for a client that accepts it (server.encoding.gzip.min_length). */
export const GZIP_MIN_BYTES = 1024;

/** OPA's warning for a POST body without input. */
const INPUT_MISSING = { code: 'api_usage_warning', message: "'input' key missing from the request" } as const;

/** OPA's reading of a boolean query parameter: present and empty, or "true" in any case. */
const flag = (value: string | undefined) => value !== undefined && (value === '' || value.toLowerCase() === 'true');

/** OPA's error code for a status: its clients branch on these. */
function opaCode(status: number): string {
  if (status === 401 || status === 403) return 'unauthorized';
  return status < 500 ? 'invalid_parameter' : 'internal_error';
}

/** An error in OPA's shape (code, message), with the service's own beside it. */
const opaErrorBody = (error: AppError) => ({
  code: opaCode(error.statusCode),
  message: error.message,
  ...errorBody(error),
});

/** The body's gzip undone, as OPA does for Content-Encoding: gzip; the body limit applies to what comes out. */
async function gunzipBody(request: FastifyRequest, _reply: FastifyReply, payload: NodeJS.ReadableStream) {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') return payload;
  if (encoding !== 'gzip') {
    throw new AppError(415, 'unsupported_encoding', `Content-Encoding ${encoding} is not supported (gzip is)`);
  }
  const gunzip = createGunzip();
  // Fastify checks Content-Length against what was received on the wire, not what came out.
  let received = 0;
  payload.on('data', (chunk: Buffer) => {
    received += chunk.length;
    Object.assign(gunzip, { receivedEncodedLength: received });
  });
  payload.on('error', (error: Error) => gunzip.destroy(error));
  // Past the body limit nothing more is inflated: Fastify answers 413 but leaves the stream
  // flowing, and a few megabytes of gzip can unpack to gigabytes.
  const limit = request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? Number.POSITIVE_INFINITY;
  let unpacked = 0;
  gunzip.on('data', (chunk: Buffer) => {
    unpacked += chunk.length;
    if (unpacked <= limit) return;
    payload.unpipe(gunzip);
    gunzip.destroy(new AppError(413, 'body_too_large', `request body exceeds ${limit} bytes`));
  });
  gunzip.on('error', (error: Error & { statusCode?: number }) => {
    if (error instanceof AppError) return;
    error.statusCode ??= 400;
    error.message = `the body is not valid gzip (${error.message})`;
  });
  payload.pipe(gunzip);
  return gunzip;
}

/** Pretty-printed when asked, then gzipped for a client that accepts it, as OPA answers. */
async function encodeAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (typeof payload !== 'string') return payload;
  reply.header('Vary', 'Accept-Encoding');
  const query = request.query as OpaQuery | undefined;
  const text = flag(query?.pretty) ? `${JSON.stringify(JSON.parse(payload), null, 2)}\n` : payload;
  const accepts = /(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*($|,))[\d.]+)?\s*($|,)/i.test(
    String(request.headers['accept-encoding'] ?? ''),
  );
  if (!accepts || Buffer.byteLength(text) < GZIP_MIN_BYTES) return text;
  reply.header('Content-Encoding', 'gzip');
  reply.removeHeader('Content-Length');
  return gzipSync(text);
}

/** When each request of these routes arrived (performance.now()), for timer_server_handler_ns. */
const received = new WeakMap<FastifyRequest, number>();

/** What OPA adds to an answer when asked: metrics (nanoseconds) and provenance. */
function extras(request: FastifyRequest, timings: Timings, revision: string | null) {
  const query = request.query as OpaQuery;
  const metrics =
    flag(query.metrics) || flag(query.instrument)
      ? {
          timer_server_handler_ns: Math.round((performance.now() - (received.get(request) ?? 0)) * 1e6),
          timer_rego_query_eval_ns: Math.round(timings.evalUs * 1000),
          timer_clearance_facts_load_ns: Math.round(timings.loadUs * 1000),
        }
      : undefined;
  const provenance =
    flag(query.provenance) && revision !== null ? { version, bundles: { clearance: { revision } } } : undefined;
  return { ...(metrics ? { metrics } : {}), ...(provenance ? { provenance } : {}) };
}

/** A plain-object deep merge, the item's keys winning (Enterprise OPA's common_input); arrays are values. */
export function deepMerge(base: unknown, over: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(over)) return over;
  const keys = new Set([...Object.keys(base), ...Object.keys(over)]);
  // fromEntries defines "__proto__" as a key like any other, never as the prototype.
  return Object.fromEntries(
    [...keys].map((key) => [
      key,
      Object.hasOwn(over, key) ? (Object.hasOwn(base, key) ? deepMerge(base[key], over[key]) : over[key]) : base[key],
    ]),
  );
}

type BatchItem = Schemas['OpaBatchItem'];

/** A batch item's status as OPA's clients read it: 200, or 400 for the caller's error, 500 for ours. */
const itemStatus = (item: BatchItem) => item.http_status_code ?? '200';

export default async function opaRoutes(app: FastifyInstance): Promise<void> {
  const onRequest = app.requireScope('decide');
  const validRequest = schemaValidator(app, 'DecideRequest');
  app.setErrorHandler(errorHandler(opaErrorBody));
  app.addHook('onRequest', async (request) => {
    received.set(request, performance.now());
  });
  app.addHook('preParsing', gunzipBody);
  app.addHook('onSend', encodeAnswer);

  /** The input as a decision request, or the 400 naming what in it is wrong (under `at`). */
  const questionOf = (input: unknown, at: string): DecideRequest => {
    const problems = validRequest(input);
    if (problems !== null) {
      throw invalidRequest(
        problems.map((p) => ({ ...p, instancePath: `/${at}${p.instancePath}` })),
        undefined,
      );
    }
    const question = input as DecideRequest;
    const refusal = attributesRefusal(
      question.resource.attributes,
      at === '' ? 'resource.attributes' : `${at}.resource.attributes`,
    );
    if (refusal !== null) throw refusal;
    return question;
  };

  /** One decision on the Data API: the input's, or the default decision without one. */
  const answer = async (request: FastifyRequest, input: unknown, warn: boolean) => {
    const timings: Timings = { loadUs: 0, evalUs: 0 };
    const call = { ...callOf(request, 'opa', headerConsistency(request)), timings };
    const result: DecisionAnswer =
      input === undefined || input === null
        ? await app.decisions.decideWithoutInput(call)
        : await app.decisions.decide(questionOf(input, 'input'), call);
    return {
      result,
      decision_id: result.decision_id,
      ...extras(request, timings, result.policy_revision),
      ...(warn && (input === undefined || input === null) ? { warning: INPUT_MISSING } : {}),
    };
  };

  route(app, 'opaDecision', {
    onRequest,
    handler: async (request) => answer(request, request.body.input, true),
  });

  route(app, 'opaDecisionGet', {
    onRequest,
    handler: async (request) => {
      const text = request.query.input;
      let input: unknown;
      try {
        // As a body is read: duplicate keys, prototype keys and deep nesting refused too.
        input = text === undefined ? undefined : parseJsonBody(text);
      } catch (error) {
        const { message } = error as AppError;
        throw badRequest('invalid_request', `input is not a JSON document this API accepts (${message})`, {
          field: 'input',
        });
      }
      return answer(request, input, false);
    },
  });

  route(app, 'opaDefaultDecision', {
    onRequest,
    handler: async (request) =>
      app.decisions.decide(questionOf(request.body, ''), callOf(request, 'opa', headerConsistency(request))),
  });

  route(app, 'opaBatchDecision', {
    onRequest,
    handler: async (request, reply) => {
      const { inputs, common_input: common } = request.body;
      const ids = Object.keys(inputs);
      const items: Record<string, BatchItem> = {};
      const asked: Array<{ id: string; question: DecideRequest }> = [];
      for (const id of ids) {
        try {
          asked.push({ id, question: questionOf(deepMerge(common ?? {}, inputs[id]), `inputs.${id}`) });
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          items[id] = { http_status_code: '400', ...opaErrorBody(error) };
        }
      }
      const timings: Timings = { loadUs: 0, evalUs: 0 };
      const call = { ...callOf(request, 'opa', headerConsistency(request)), timings };
      const batchId = randomUUID();
      const results = await app.decisions.decideBatch(
        asked.map((a) => a.question),
        call,
        batchId,
      );
      // One policy revision decides the whole batch.
      const decided = results.find((result): result is DecisionAnswer => !('error' in result));
      const { metrics, provenance } = extras(request, timings, decided?.policy_revision ?? null);
      results.forEach((result, i) => {
        const { id } = asked[i] as { id: string };
        if (!('error' in result)) {
          items[id] = { result, decision_id: result.decision_id, ...(provenance ? { provenance } : {}) };
          return;
        }
        const refusal = new AppError(
          result.error.code === 'invalid_request' ? 400 : 500,
          result.error.code,
          result.error.message,
        );
        items[id] = {
          http_status_code: refusal.statusCode === 400 ? '400' : '500',
          decision_id: result.decision_id,
          ...opaErrorBody(refusal),
        };
      });
      const statuses = new Set(Object.values(items).map(itemStatus));
      const status =
        statuses.size === 0 || (statuses.size === 1 && statuses.has('200'))
          ? 200
          : statuses.size === 1 && statuses.has('500')
            ? 500
            : 207;
      // In a mixed batch every item says how it went; in an all-200 batch none needs to.
      const responses = Object.fromEntries(
        ids.map((id) => {
          const item = items[id] as BatchItem;
          return [id, status === 207 ? { ...item, http_status_code: itemStatus(item) } : item];
        }),
      );
      return reply.code(status).send({ batch_decision_id: batchId, responses, ...(metrics ? { metrics } : {}) });
    },
  });
}
