// How long after a write's answer another replica may still answer from the old facts, for a
// caller that passes no consistency token: two serving processes on one fresh PostgreSQL database
// (only the change feed connects them). Each round changes an allocation through A and, from the
// moment A's answer arrives, asks B back to back (one keep-alive connection) until B's decision
// shows the write. Reports the median, p99 and largest of those windows; the resolution is one
// decision's round trip. Figures only: a benchmark is not a test.
//
//   node bench/replica-window.ts [--rounds N]   (make bench-window; PostgreSQL at 127.0.0.1:5432)
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createPostgresDatabase } from '../test/helpers/database.ts';
import { startServer, type Server } from './processes.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '300' } } });
const rounds = Number(values.rounds);
const token = `bench-admin-${randomBytes(12).toString('hex')}`;
const P = '/v1/accounts/window';

async function call(
  server: Server,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown> | null> {
  const response = await fetch(`${server.origin}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : ((await response.json()) as Record<string, unknown>);
}

const allowed = async (server: Server) =>
  (
    await call(server, 'POST', '/v1/decide', {
      subject: { id: 'window-std' },
      action: 'client.view',
      resource: { type: 'client', id: 'window-acme' },
    })
  )?.allow === true;

const created = await createPostgresDatabase();
const servers: Server[] = [];
try {
  for (const name of ['A', 'B']) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    servers.push(
      await startServer(
        name,
        process.execPath,
        ['service/server.ts'],
        {
          DATABASE_URL: created.url,
          PORT: String(port),
          CLEARANCE_ADMIN_TOKEN: token,
          LOG_LEVEL: 'warn',
          CLEARANCE_SEED_DEMO: 'false',
        },
        `http://127.0.0.1:${port}/ready`,
      ),
    );
  }
  const [a, b] = servers as [Server, Server];
  await call(a, 'PUT', P, { kind: 'practice', name: 'Window' });
  await call(a, 'PUT', `${P}/users/window-std`, { name: 'Std', role: 'standard' });
  await call(a, 'PUT', `${P}/clients/window-acme`, { name: 'Acme' });

  const windows: number[] = [];
  let staleFirst = 0;
  for (let round = 0; round < rounds; round++) {
    const allocate = round % 2 === 0;
    // B has the current state cached before the write.
    while ((await allowed(b)) === allocate) await new Promise((resolve) => setTimeout(resolve, 1));
    await allowed(b);
    await call(a, 'PUT', `${P}/users/window-std/allocations`, { client_ids: allocate ? ['window-acme'] : [] });
    const answered = performance.now();
    let asks = 1;
    while ((await allowed(b)) !== allocate) asks += 1;
    if (asks > 1) staleFirst += 1;
    windows.push(performance.now() - answered);
  }
  windows.sort((x, y) => x - y);
  const at = (q: number) =>
    (windows[Math.min(windows.length - 1, Math.floor(q * windows.length))] as number).toFixed(2);
  console.log(
    JSON.stringify({
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      loadavg: loadavg().map((l) => Number(l.toFixed(2))),
      rounds,
      // From A's answer to B's first answer that shows the write.
      window_ms: { median: at(0.5), p99: at(0.99), max: (windows.at(-1) as number).toFixed(2) },
      // Rounds in which the first decision asked of B after A's answer still showed the old facts.
      stale_first_ask: staleFirst,
    }),
  );
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await created.drop();
}
