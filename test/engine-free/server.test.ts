// The process as a user starts it: bad configuration, start-up, a graceful stop, the bootstrap token.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { eventually } from '../helpers/app.ts';
import { listening } from '../helpers/server-process.ts';

const SERVER = 'service/server.ts';
// Three first starts of the embedded engine (initdb each): on two busy shared cores, over 2 minutes.
t.setTimeout(300_000);

t.test('when PORT is not a number, then the server refuses to start with one line naming PORT', async (t) => {
  const run = spawnSync(process.execPath, [SERVER], { env: { ...process.env, PORT: 'abc' }, encoding: 'utf8' });
  t.equal(run.status, 2);
  t.equal(run.stderr, 'clearance: invalid configuration: PORT must be a whole number from 0 to 65535, got "abc"\n');
});

t.test('when DATABASE_URL is malformed, then the server refuses to start naming DATABASE_URL', async (t) => {
  const run = spawnSync(process.execPath, [SERVER], {
    env: { ...process.env, DATABASE_URL: 'nonsense' },
    encoding: 'utf8',
  });
  t.equal(run.status, 2);
  t.match(run.stderr, /^clearance: invalid configuration: DATABASE_URL is not a URL/);
});

t.test(
  'given the embedded engine, when started then sent SIGTERM, then it serves /ready and exits cleanly',
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'clearance-server-'));
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, DATABASE_URL: '', CLEARANCE_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    t.teardown(() => child.kill('SIGKILL'));

    // The port the OS gave it, from its banner (printed once it listens and has migrated).
    const base = await listening(child, () => output);
    t.equal(await fetch(`${base}/ready`).then((r) => r.status), 200, `ready (log: ${output.slice(-500)})`);
    // The logger writes asynchronously: the line may land just after /ready answers.
    t.ok(await eventually(async () => /seeded the empty database with demo data/.test(output)), 'demo data seeded');
    child.kill('SIGTERM');
    t.equal(await exited, 0, 'exit code 0 after SIGTERM');
    t.match(output, /"msg":"stopped"/);
  },
);

t.test(
  'given a fresh embedded data folder and the port in use, when the server cannot listen, then the bootstrap token it made is printed, and works on the next start',
  async (t) => {
    t.setTimeout(300_000);
    const dataDir = mkdtempSync(join(tmpdir(), 'clearance-server-'));
    const env = {
      ...process.env,
      DATABASE_URL: '',
      CLEARANCE_DATA_DIR: dataDir,
      CLEARANCE_ADMIN_TOKEN: '',
      LOG_LEVEL: 'info',
    };
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.teardown(() => blocker.close());
    const taken = (blocker.address() as { port: number }).port;

    const first = spawn(process.execPath, [SERVER], {
      env: { ...env, PORT: String(taken) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => first.kill('SIGKILL'));
    let stdout = '';
    first.stdout.on('data', (d) => (stdout += d));
    first.stderr.on('data', (d) => (stdout += d));
    t.equal(await new Promise<number | null>((resolve) => first.on('exit', resolve)), 1, 'exits 1: it cannot listen');
    t.match(stdout, /cannot listen on 127\.0\.0\.1/);
    const token = /admin token \(shown once, keep it\): (clr_\S+)/.exec(stdout)?.[1];
    t.ok(token, 'the token is printed', { output: stdout.slice(-800) });
    const logLines = stdout.split('\n').filter((line) => line.startsWith('{'));
    t.ok(logLines.length > 0 && logLines.every((line) => !line.includes(token as string)), 'never in a log line');

    const second = spawn(process.execPath, [SERVER], { env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => second.kill('SIGKILL'));
    let output = '';
    second.stdout.on('data', (d) => (output += d));
    second.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => second.on('exit', resolve));
    const base = await listening(second, () => output);
    t.equal(await fetch(`${base}/ready`).then((r) => r.status), 200, 'ready again', { output: output.slice(-500) });
    const tokens = await fetch(`${base}/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(tokens.status, 200, 'the printed token works');
    t.notMatch(output, /clr_/, 'no other token is made or shown');
    second.kill('SIGTERM');
    t.equal(await exited, 0);
  },
);
