// The console's one way to the service: the public /v1 API, typed from the OpenAPI document, with
// the signed-in token. Every refusal becomes an ApiError carrying the API's code and message, so a
// page can say plainly what went wrong (401: the token is not valid; 403: it lacks the scope).
import createClient from 'openapi-fetch';
import type { components, paths } from '../../service/http/openapi-types.ts';
import { storedToken } from './session.ts';

export type Schemas = components['schemas'];
export type DecisionEntry = Schemas['DecisionLogEntry'];
export type Scope = Schemas['Scope'];

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** What to tell the person at the screen. */
  get plain(): string {
    if (this.status === 401)
      return `Not signed in: the token was refused (${this.message}). Sign out and sign in again.`;
    if (this.status === 403) return `This token may not do that: ${this.message}`;
    return `${this.message} (${this.code}, HTTP ${this.status})`;
  }
}

const client = createClient<paths>({ baseUrl: window.location.origin });
client.use({
  onRequest({ request }) {
    const token = storedToken();
    if (token !== null) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
});

export { client };

/** The answer's data, or an ApiError from its error body (or from a failure to reach the service). */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: Awaited<typeof call>;
  try {
    result = await call;
  } catch (error) {
    throw new ApiError(0, 'unreachable', `the service could not be reached: ${(error as Error).message}`);
  }
  if (result.response.ok && result.data !== undefined) return result.data;
  throw errorOf(result.response.status, result.error);
}

/** Whatever a call threw, as an ApiError: the API's own as it is, anything else as console_error. */
export const asApiError = (failure: unknown): ApiError =>
  failure instanceof ApiError ? failure : new ApiError(0, 'console_error', String(failure));

export function errorOf(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    return new ApiError(status, error.code, error.message);
  }
  return new ApiError(status, 'unexpected_answer', `the service answered HTTP ${status}`);
}

/** A request with the token for what the typed client does not cover: streams and downloads. */
export async function authorizedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = storedToken();
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (error) {
    throw new ApiError(0, 'unreachable', `the service could not be reached: ${(error as Error).message}`);
  }
  if (!response.ok) throw errorOf(response.status, await response.json().catch(() => undefined));
  return response;
}
