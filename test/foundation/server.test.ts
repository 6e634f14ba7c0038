// The process as a user starts it: bad configuration, start-up, a graceful stop.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { eventually } from '../helpers/app.ts';

const SERVER = 'service/server.ts';

t.test('when PORT is not a number, then the server refuses to start with one line naming PORT', async (t) => {
  const run = spawnSync(process.execPath, [SERVER], { env: { ...process.env, PORT: 'abc' }, encoding: 'utf8' });
  t.equal(run.status, 2);
  t.equal(run.stderr, 'clearance: invalid configuration: PORT must be a whole number from 0 to 65535, got "abc"\n');
});

t.test('when DATABASE_URL is malformed, then the server refuses to start naming DATABASE_URL', async (t) => {
  const run = spawnSync(process.execPath, [SERVER], { env: { ...process.env, DATABASE_URL: 'nonsense' }, encoding: 'utf8' });
  t.equal(run.status, 2);
  t.match(run.stderr, /^clearance: invalid configuration: DATABASE_URL is not a URL/);
});

t.test('given the embedded engine, when started then sent SIGTERM, then it serves /ready and exits cleanly', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clearance-server-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, DATABASE_URL: '', CLEARANCE_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));

  // A first start creates the embedded database from nothing: on two shared, busy cores that has
  // taken over a minute, so wait up to 90 s (normally it is ready in about 5 s).
  let ready = 0;
  for (let i = 0; i < 450 && ready !== 200 && child.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 200));
    ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => 0);
  }
  t.equal(ready, 200, `ready (log: ${output.slice(-500)})`);
  // The logger writes asynchronously: the line may land just after /ready answers.
  t.ok(await eventually(async () => /seeded the empty embedded database with demo data/.test(output)), 'demo data seeded');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0 after SIGTERM');
  t.match(output, /"msg":"stopped"/);
});
