// `make bench-tracing`: what OpenTelemetry tracing costs on /v1/decide, warm. One Clearance process
// (no workers) on the benchmark data set, at 32 connections with the request mix of `make bench`,
// in runs alternating tracing off, on sampled at 1% and on sampled at 100%. Spans are exported over
// OTLP/HTTP to a sink this script starts, which answers 200 to POST /v1/traces and discards the body,
// so the export is paid in full but no collector's work is. Prints each run, then the medians.
// Usage: node bench/tracing.ts [rounds] [seconds]   (BENCH_DATABASE_URL)
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadResult } from './load.ts';
import { startServer } from './processes.ts';
import { benchDatabaseUrl, decideLoadInputs } from './setup.ts';
import { median } from './policy-eval.ts';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 10);
if (!(rounds >= 1) || !(seconds > 0)) {
  process.stderr.write('usage: node bench/tracing.ts [rounds] [seconds]\n');
  process.exit(2);
}
const say = (message: string) => process.stderr.write(`tracing: ${message}\n`);

const MODES: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'off', env: {} },
  { name: '1%', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' } },
  { name: '100%', env: { OTEL_TRACES_SAMPLER: 'parentbased_always_on' } },
];

/** The collector stand-in: counts the export requests and their bytes, keeps nothing. */
async function startSink(): Promise<{ port: number; posts: () => number; bytes: () => number; close(): void }> {
  let posts = 0;
  let bytes = 0;
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') posts += 1;
      response.writeHead(request.method === 'POST' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('sink: no port');
  return { port: address.port, posts: () => posts, bytes: () => bytes, close: () => server.close() };
}

async function main(): Promise<void> {
  const { mix, auth } = await decideLoadInputs(say);
  const sink = await startSink();
  const results = new Map<string, LoadResult[]>(MODES.map((m) => [m.name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      // Each round starts with another mode, so none always runs first (or last) on a warming machine.
      for (let i = 0; i < MODES.length; i++) {
        const mode = MODES[(round + i) % MODES.length] as (typeof MODES)[number];
        const port = 18800 + Math.floor(Math.random() * 100);
        const server = await startServer(
          `clearance (tracing ${mode.name})`,
          process.execPath,
          ['service/server.ts'],
          {
            DATABASE_URL: benchDatabaseUrl,
            PORT: String(port),
            CLEARANCE_WORKERS: '1',
            CLEARANCE_ADMIN_TOKEN: 'bench-admin-token-not-used-by-the-load',
            CLEARANCE_SEED_DEMO: 'false',
            CLEARANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'clearance-tracing-')),
            LOG_LEVEL: 'warn',
            DECISION_LOG: 'buffered',
            ...(mode.name === 'off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}` }),
            ...mode.env,
          },
          `http://127.0.0.1:${port}/ready`,
        );
        try {
          const target = {
            origin: server.origin,
            path: '/v1/decide',
            headers: auth,
            bodies: mix.map((request) => JSON.stringify(request)),
          };
          await runLoad(target, {
            connections: 32,
            durationS: 2,
            warmupS: 3,
            warmupRequests: 2 * target.bodies.length,
          });
          const postsBefore = sink.posts();
          const result = await runLoad(target, { connections: 32, durationS: seconds, warmupS: 0 });
          results.get(mode.name)?.push(result);
          say(
            `round ${round + 1}, ${mode.name.padEnd(4)}: ${result.rps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms` +
              `, ${sink.posts() - postsBefore} exports${result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    sink.close();
  }
  const off = median((results.get('off') as LoadResult[]).map((r) => r.rps));
  const lines = [`/v1/decide warm, 1 process, 32 connections, ${rounds} runs of ${seconds} s each; medians:`];
  for (const { name } of MODES) {
    const runs = results.get(name) as LoadResult[];
    const rps = median(runs.map((r) => r.rps));
    const cost = name === 'off' ? '' : ` (${(((rps - off) / off) * 100).toFixed(1)}% vs off)`;
    lines.push(
      `  tracing ${name.padEnd(4)}: ${rps.toFixed(0)} req/s${cost}, p50 ${median(runs.map((r) => r.latencyMs.p50))} ms, p99 ${median(runs.map((r) => r.latencyMs.p99))} ms`,
    );
  }
  lines.push(`  sink: ${sink.posts()} OTLP exports, ${(sink.bytes() / 1e6).toFixed(1)} MB in all`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
