// Serves the operator console's static files at /console/ and sets the headers a browser reading
// the API needs: the console renders data other systems wrote, so its page runs under a strict
// Content-Security-Policy, and no API answer (decisions, facts, tokens) is kept in a browser cache.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

export interface ConsolePluginOptions {
  /** The console's build output (index.html and hashed assets); null or missing: not served. */
  consoleDir: string | null;
}

/** Only the console's own files and same-origin API calls; nothing inline, never framed. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The build names assets by a hash of their contents, so only index.html must be asked for again. */
const HASHED = /-[A-Z0-9]{8}\.(js|css|map)$/;

async function consolePlugin(app: FastifyInstance, options: ConsolePluginOptions): Promise<void> {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff');
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
    else if (request.url.startsWith('/console')) {
      // Every answer under /console, a 404 or 304 too, carries the page's policy.
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
    }
    done();
  });

  const root = options.consoleDir === null ? null : resolve(options.consoleDir);
  if (root === null || !existsSync(resolve(root, 'index.html'))) {
    app.log.warn({ consoleDir: root }, 'the console is not built (make console): /console/ answers 404');
    app.get('/console/*', async () => {
      throw new AppError(404, 'console_not_built', 'the console is not built here: run make console (make run does)');
    });
  } else {
    await app.register(fastifyStatic, {
      root,
      prefix: '/console/',
      index: 'index.html',
      wildcard: true,
      dotfiles: 'deny',
      cacheControl: false,
      etag: true,
      lastModified: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  app.get('/console', (_request, reply) => reply.redirect('/console/', 301));
}

export default fp(consolePlugin, { name: 'console', fastify: '5.x' });
