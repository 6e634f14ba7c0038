// What a person running the service meets: the banner's example curl working as printed (and
// offered only where its demo data exists), and a graceful stop answering requests on kept-alive
// connections with the documented 503 rather than resetting them.
import { spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import t from 'tap';
import { eventually } from '../helpers/app.ts';
import { startServer } from '../helpers/server-process.ts';

t.setTimeout(300_000);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  reusedSocket: boolean;
}

/** One request through agent; resolves with the answer, or rejects with the socket's error. */
function send(
  agent: Agent,
  base: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: body === undefined ? 'GET' : 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, reusedSocket: req.reusedSocket }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test(
  'given a running service and three kept-alive connections, when it is sent SIGTERM, then requests on them get 503 shutting_down with Connection: close, then it exits cleanly',
  async (t) => {
    const server = await startServer(t, { LOG_LEVEL: 'info' });
    const agent = new Agent({ keepAlive: true, maxSockets: 3 });
    t.teardown(() => agent.destroy());
    const decide = JSON.stringify({
      subject: { id: 'sam' },
      action: 'client.view',
      resource: { type: 'client', id: 'acme' },
    });
    const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const first = await Promise.all([0, 1, 2].map(() => send(agent, server.base, '/v1/decide', headers, decide)));
    t.same(
      first.map((a) => a.status),
      [200, 200, 200],
      'answered, the connections kept alive',
    );

    server.child.kill('SIGTERM');
    t.ok(
      await eventually(async () => /"msg":"stopping: no new connections/.test(server.output()), 10_000),
      'the stop has begun',
    );
    const during = await Promise.allSettled(
      [0, 1, 2].map(() => send(agent, server.base, '/v1/decide', headers, decide)),
    );
    for (const outcome of during) {
      t.equal(
        outcome.status,
        'fulfilled',
        outcome.status === 'rejected' ? `not a reset: ${String(outcome.reason)}` : 'answered',
      );
      if (outcome.status !== 'fulfilled') continue;
      t.equal(outcome.value.reusedSocket, true, 'on a kept-alive connection');
      t.equal(outcome.value.status, 503);
      t.equal(outcome.value.headers.connection, 'close');
      t.match(JSON.parse(outcome.value.body), { error: { code: 'shutting_down', message: String } });
    }
    t.equal(await server.exited, 0, 'a clean exit');
  },
);

t.test(
  'given the admin token from the environment and the demo data, when the banner is printed, then its curl works as printed',
  async (t) => {
    const server = await startServer(t);
    t.ok(await eventually(async () => /try:\n/.test(server.output()), 10_000), 'the banner offers a try');
    const curl = /try:\n\s+(curl [^\n]*\\\n[^\n]*)\n/.exec(server.output())?.[1];
    t.ok(curl, 'a curl', { output: server.output().slice(-1500) });
    t.notMatch(
      curl,
      /'[^']*\$CLEARANCE_ADMIN_TOKEN[^']*'/,
      'the token variable is not in single quotes, where a shell leaves it unexpanded',
    );
    const run = spawnSync('bash', ['-c', `${curl} -w '\\n%{http_code}'`], {
      env: { ...process.env, CLEARANCE_ADMIN_TOKEN: server.token },
      encoding: 'utf8',
    });
    const [body, status] = run.stdout.trim().split('\n');
    t.equal(status, '200', run.stdout + run.stderr);
    t.match(JSON.parse(body as string), { allow: Boolean, reasons: Array, policy_revision: String });
    server.child.kill('SIGTERM');
    await server.exited;
  },
);

t.test(
  'given a database without the demo data, when the banner is printed, then it offers no example naming demo users, and says how to get data in',
  async (t) => {
    const server = await startServer(t, { CLEARANCE_SEED_DEMO: 'false' });
    t.ok(await eventually(async () => /Clearance is listening/.test(server.output()), 10_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const banner = server.output().slice(server.output().indexOf('Clearance is listening'));
    t.notMatch(banner, /"sam"|globex|try:/, 'no demo example');
    t.match(banner, /no demo data in this database: .*context API.*\n.*CLEARANCE_SEED_DEMO=true/);
    server.child.kill('SIGTERM');
    await server.exited;
  },
);
