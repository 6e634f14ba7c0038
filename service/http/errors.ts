// The one error handler: every error a route, hook or the validator throws becomes
// {"error": {"code", "message", "details"?}}; a fault of ours is a 500 that says no more than that.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { patternMeanings } from './openapi.ts';

type ValidationError = NonNullable<FastifyError['validation']>[number];

/**
 * Turns what the database refused into the error shape: a race with another writer is 409, a
 * value the schema refuses is 400, a lost connection 503. Anything else is a bug and stays a 500.
 */
export function fromDatabaseError(error: unknown): AppError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const detail = (error as Error).message;
  if (['23505', '23503', '40001', '40P01'].includes(code)) {
    const message = `a concurrent change touched the same records (${detail}); nothing was written, retry the request`;
    return new AppError(409, 'conflict', message, { cause: error });
  }
  if (code.startsWith('23') || code.startsWith('22')) {
    const message = `the database refused the change (${detail}); nothing was written`;
    return new AppError(400, 'constraint_violation', message, { cause: error });
  }
  if (/^(08|53|57P)/.test(code) || /^E[A-Z]+$/.test(code)) {
    const message = 'the database is unavailable; nothing was written';
    return new AppError(503, 'database_unavailable', message, { cause: error });
  }
  return undefined;
}

/**
 * The 400 for what the validator refused, naming the first field that failed (records[3].role:
 * array positions in brackets, like the domain's own refusals) and listing every problem found.
 */
export function invalidRequest(
  validation: ValidationError[],
  part: string | undefined,
  meanings: Record<string, string> = patternMeanings(),
): AppError {
  const problems = validation.map((v) => {
    const params = v.params as Record<string, unknown>;
    const path = v.instancePath.split('/').filter(Boolean);
    const named = params.missingProperty ?? params.additionalProperty;
    if (typeof named === 'string') path.push(named);
    const field = path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || part || 'body';
    const message =
      v.keyword === 'required'
        ? `${field} is required`
        : v.keyword === 'additionalProperties'
          ? `${field} is not an accepted field`
          : v.keyword === 'pattern' && meanings[String(params.pattern)] !== undefined
            ? `${field} ${meanings[String(params.pattern)]}`
            : `${field} ${v.message ?? 'is invalid'}`;
    return { field, message };
  });
  const first = problems[0] ?? { field: 'body', message: 'body is invalid' };
  return new AppError(400, 'invalid_request', first.message, { details: { field: first.field, problems } });
}

/** What Fastify itself refuses (a body too large, malformed JSON) as the service's own errors. */
function fromFramework(error: FastifyError, request: FastifyRequest): AppError | undefined {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit;
    return new AppError(413, 'body_too_large', `request body exceeds ${limit} bytes`);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    const invalidJson = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError;
    return new AppError(error.statusCode, invalidJson ? 'invalid_json' : 'bad_request', error.message);
  }
  return undefined;
}

/** The service's error body: {"error": {"code", "message", "details"?}}. */
export const errorBody = (error: AppError) => ({
  error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
});

type ErrorHandler = (error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/**
 * The app's error handler (app.setErrorHandler(errorHandler())); a plugin whose routes answer
 * errors in another shape (OPA's) passes its own body.
 */
export function errorHandler(body: (error: AppError) => object = errorBody): ErrorHandler {
  const meanings = patternMeanings();
  const send = (reply: FastifyReply, error: AppError) => reply.code(error.statusCode).send(body(error));
  return (error, request, reply) => {
    if (error instanceof AppError) return send(reply, error);
    if (error.validation) return send(reply, invalidRequest(error.validation, error.validationContext, meanings));
    const refused = fromFramework(error, request);
    if (refused !== undefined) return send(reply, refused);
    // A database that refused or was lost is the caller's to retry or fix, not a fault of ours.
    const fromDatabase = fromDatabaseError(error);
    if (fromDatabase !== undefined) {
      request.log.warn({ err: error }, 'database error');
      return send(reply, fromDatabase);
    }
    // The stack and the message stay in the log: they can name tables, queries and paths.
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, new AppError(500, 'internal_error', 'internal error; see the service log'));
  };
}
