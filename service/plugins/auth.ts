// Bearer-token authentication with scopes. Routes name the scope they need:
// `{ onRequest: app.requireScope('decide') }`. 401 for a missing or bad token, 403 for a missing scope.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Scope } from '../data/schema.ts';
import { ATTRIBUTE, SPAN, traced } from '../domain/spans.ts';
import { TokenVerifier, type Principal } from '../domain/tokens.ts';
import { AppError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    requireScope(scope: Scope): onRequestHookHandler;
    /** Any valid token, whatever its scopes (a token asking about itself). */
    requireToken: onRequestHookHandler;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface AuthPluginOptions {
  adminToken: string | null;
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  // Token rows come through the fact cache, which follows the change feed (a revocation elsewhere
  // arrives as a notification) and is bypassed while the feed is down, or while another worker
  // announced a change (a revocation) this one has not applied yet.
  // A traced request's authentication is a span of it (clearance.authenticate).
  const verifier = new TokenVerifier(options.adminToken, (id) => app.facts.forRequest().token(id));
  app.decorateRequest('principal', null);

  const authenticate = (request: FastifyRequest): Promise<Principal> =>
    request.trace === null
      ? principalOf(request)
      : traced(request.trace, SPAN.authenticate, undefined, async (span) => {
          const principal = await principalOf(request);
          span?.setAttribute(ATTRIBUTE.tokenId, principal.tokenId);
          return principal;
        });

  const principalOf = async (request: FastifyRequest): Promise<Principal> => {
    const header = request.headers.authorization;
    if (header === undefined)
      throw new AppError(401, 'unauthenticated', 'missing Authorization: Bearer <token> header');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new AppError(401, 'unauthenticated', 'the Authorization header must be "Bearer <token>"');
    let principal: Principal | null;
    try {
      principal = await verifier.verify(match[1] as string);
    } catch (error) {
      throw new AppError(503, 'context_unavailable', 'cannot check the token: the database is unavailable', {
        cause: error,
      });
    }
    if (principal === null) throw new AppError(401, 'invalid_token', 'the token is unknown, revoked or expired');
    return principal;
  };

  app.decorate('requireToken', async (request: FastifyRequest) => {
    request.principal = await authenticate(request);
  });

  app.decorate('requireScope', (scope: Scope): onRequestHookHandler => {
    return async (request) => {
      const principal = await authenticate(request);
      if (!principal.scopes.includes(scope)) {
        throw new AppError(403, 'insufficient_scope', `the token lacks the "${scope}" scope`);
      }
      request.principal = principal;
    };
  });
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['facts', 'tracing'] });
