// What each role loads (README, "Memory"): a cluster's supervisor does not load the app it never
// serves, and the decision log's writer thread loads neither Kysely nor PGlite; a process on
// PostgreSQL does not load PGlite either. Each is checked in a fresh Node process that records
// every module it resolves.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The modules (resolved URLs) loading `entries` in a fresh process pulls in, statically and by
 * what their top level awaits. An entry is a path from the repository's root or a package name.
 * The modules named in `stubbed` load as an empty `supervise` and `serve` instead of their own
 * code, so an entry that runs a role (server.ts) can be imported without running it.
 */
function modulesLoadedBy(entries: string[], stubbed: string[] = [], env: Record<string, string> = {}): string[] {
  const specifiers = entries.map((entry) => (entry.startsWith('service/') ? join(ROOT, entry) : entry));
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    const stubbed = ${JSON.stringify(stubbed)};
    registerHooks({
      resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; },
      load(url, context, next) {
        if (!stubbed.some((path) => url.endsWith(path))) return next(url, context);
        return { format: 'module', source: 'export function supervise() {} export async function serve() {}', shortCircuit: true };
      },
    });
    for (const entry of ${JSON.stringify(specifiers)}) await import(entry);
    process.stdout.write(JSON.stringify(seen));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (run.status !== 0) throw new Error(`importing ${entries.join(', ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

const loads = (modules: string[], part: string) => modules.some((url) => url.includes(part));

const SERVING = ['/service/app.ts', '/service/serve.ts', '/node_modules/fastify/', '/node_modules/kysely/'];
const DRIVERS = ['/node_modules/pg/', '@electric-sql/pglite'];

t.test('given the modules a cluster supervisor imports', async (t) => {
  const modules = modulesLoadedBy(['service/config.ts', 'service/supervisor.ts']);
  t.ok(loads(modules, '/service/banner.ts'), 'then the banner is among them (the check sees what is loaded)');
  for (const part of [...SERVING, ...DRIVERS]) t.notOk(loads(modules, part), `then ${part} is not loaded`);
});

t.test('given server.ts started as a cluster supervisor (CLEARANCE_WORKERS=2)', async (t) => {
  // supervisor.ts's own code is stubbed (it would fork): what server.ts itself loads is checked.
  const modules = modulesLoadedBy(['service/server.ts'], ['/service/supervisor.ts'], {
    CLEARANCE_WORKERS: '2',
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  });
  t.ok(loads(modules, '/service/supervisor.ts'), 'then it loads supervisor.ts');
  for (const part of [...SERVING, ...DRIVERS]) t.notOk(loads(modules, part), `then ${part} is not loaded`);
});

t.test('given the modules the decision log writer thread imports', async (t) => {
  // The worker runs only as a thread (importing it elsewhere throws): what it imports is read from
  // its source, and those modules are loaded.
  const source = readFileSync(join(ROOT, 'service/data/decision-log-worker.ts'), 'utf8');
  t.notOk(/\bimport\(/.test(source), 'then it imports nothing dynamically (all it loads is read below)');
  const imported = [...source.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gms)].map(
    (match) => match[1] as string,
  );
  const modules = modulesLoadedBy(
    imported.map((specifier) => (specifier.startsWith('.') ? join('service/data', specifier) : specifier)),
  );
  t.ok(loads(modules, '/service/data/decision-log-statements.ts'), 'then its statements module is among them');
  t.ok(loads(modules, '/node_modules/pg/'), 'then pg is among them');
  t.notOk(loads(modules, '/node_modules/kysely/'), 'then Kysely is not loaded');
  t.notOk(loads(modules, '@electric-sql/pglite'), 'then PGlite is not loaded');
});

t.test('given the modules a serving process on PostgreSQL imports, then PGlite is not among them', async (t) => {
  const modules = modulesLoadedBy(['service/serve.ts']);
  t.ok(loads(modules, '/service/app.ts'), 'the app is loaded');
  t.notOk(loads(modules, '@electric-sql/pglite'), 'PGlite is loaded only when the embedded engine is opened');
});
