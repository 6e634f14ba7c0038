// The console's static files: served with a strict CSP, hashed assets cached for good and the page
// never, nothing outside the build folder reachable; a service without a build says how to make one.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import t from 'tap';
import { errorHandler } from '../../service/http/errors.ts';
import consolePlugin, { CONSOLE_CSP } from '../../service/plugins/console.ts';

async function appWith(consoleDir: string | null) {
  const app = Fastify({ logger: false });
  app.setErrorHandler(errorHandler());
  await app.register(consolePlugin, { consoleDir });
  app.get('/v1/thing', async () => ({ ok: true }));
  await app.ready();
  return app;
}

function build(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-console-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(dir, 'app-ABCDEF12.js'), 'console.log(1)');
  writeFileSync(join(dir, '.secret'), 'no');
  mkdirSync(join(dir, 'sub'));
  return dir;
}

t.test('when the console is built, then its page is served under the strict policy and never cached', async (t) => {
  const app = await appWith(build());
  t.teardown(() => app.close());
  const page = await app.inject({ url: '/console/' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.equal(page.headers['content-security-policy'], CONSOLE_CSP);
  t.match(CONSOLE_CSP, "frame-ancestors 'none'");
  t.notMatch(CONSOLE_CSP, 'unsafe', 'nothing inline, no eval');
  t.equal(page.headers['x-content-type-options'], 'nosniff');
  t.equal(page.headers['cache-control'], 'no-cache', 'the page is asked for again, so a new build is seen');
  const asset = await app.inject({ url: '/console/app-ABCDEF12.js' });
  t.equal(asset.statusCode, 200);
  t.match(asset.headers['cache-control'], /immutable/, 'a hashed asset is cached for good');
  const bare = await app.inject({ url: '/console' });
  t.equal(bare.statusCode, 301);
  t.equal(bare.headers.location, '/console/');
});

t.test('when a path leaves the build or names a dot file, then nothing is served', async (t) => {
  const app = await appWith(build());
  t.teardown(() => app.close());
  for (const url of [
    '/console/.secret',
    '/console/../package.json',
    '/console/%2e%2e/package.json',
    '/console/nope.js',
  ]) {
    const answer = await app.inject({ url });
    t.not(answer.statusCode, 200, `${url} is not served`);
    t.notMatch(answer.body, /"name": "clearance"/, `${url} shows no file outside the build`);
    if (!url.includes('.'.repeat(2)) && !url.includes('%2e')) {
      t.equal(answer.headers['content-security-policy'], CONSOLE_CSP, `${url}: the policy on a refusal too`);
    }
  }
});

t.test('when the console is not built, then /console/ says how to build it', async (t) => {
  const app = await appWith(join(tmpdir(), 'clearance-console-missing'));
  t.teardown(() => app.close());
  const answer = await app.inject({ url: '/console/' });
  t.equal(answer.statusCode, 404);
  t.equal(answer.json().error.code, 'console_not_built');
});

t.test('API answers are not cached by browsers', async (t) => {
  const app = await appWith(null);
  t.teardown(() => app.close());
  const answer = await app.inject({ url: '/v1/thing' });
  t.equal(answer.headers['cache-control'], 'no-store');
  t.equal(answer.headers['x-content-type-options'], 'nosniff');
});
