// `make bench-profile`: where a serving process spends its CPU on /v1/decide. Runs one Clearance
// process (no workers, so one profile holds everything) on the benchmark data set, warms it with
// the request mix of `make bench`, then profiles it through the inspector while the mix is sent at
// 32 connections — the steady state only, not start-up or cache warming — and prints the user and
// kernel CPU per request, the self time by area and the heaviest functions. The .cpuprofile it
// leaves opens as a flame graph in Chrome DevTools (Performance → Load profile) or speedscope.
// `bare` profiles the bare-Fastify ceiling the same way, for comparison.
// Usage: node bench/profile.ts [off|buffered|durable|bare] [seconds]   (BENCH_DATABASE_URL)
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runLoad } from './load.ts';
import { inspector, startServer } from './processes.ts';
import { benchDatabaseUrl, decideLoadInputs } from './setup.ts';

const mode = process.argv[2] ?? 'buffered';
const seconds = Number(process.argv[3] ?? 20);
if (!['off', 'buffered', 'durable', 'bare'].includes(mode) || !(seconds > 0)) {
  process.stderr.write('usage: node bench/profile.ts [off|buffered|durable|bare] [seconds]\n');
  process.exit(2);
}
const say = (message: string) => process.stderr.write(`profile: ${message}\n`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** The area a function belongs to, from its script: ours, a dependency, Node, the policy module. */
function area(url: string, name: string): string {
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(idle)') return 'idle';
  if (name === '(program)' || name === '(root)') return 'V8 and native code';
  if (url.startsWith('wasm://')) return 'policy (WebAssembly)';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency !== null) return dependency[1] as string;
  const ours = /\/(service|bench)\/(.+)$/.exec(url);
  if (ours !== null) return `${ours[1]}/${(ours[2] as string).split('/')[0]}`;
  if (url.startsWith('node:') || url === '') return 'Node.js internals';
  return url;
}

function summarise(profile: CpuProfile): string {
  const sampleMs = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const total = profile.samples.length;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = area(url, functionName);
    byArea.set(where, (byArea.get(where) ?? 0) + count);
    const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*\/(node_modules|service|bench)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  const busy = total - (byArea.get('idle') ?? 0);
  const pct = (n: number, of: number) => `${((n / of) * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `${total} samples of ${sampleMs.toFixed(2)} ms; busy ${pct(busy, total)} of the time`,
    '',
    'self time by area (share of busy time):',
  ];
  for (const [name, n] of [...byArea]
    .filter(([a]) => a !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20))
    lines.push(`  ${pct(n, busy)}  ${name}`);
  lines.push('', 'heaviest functions by self time (share of busy time):');
  for (const [name, n] of [...byFunction]
    .filter(([f]) => !f.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30))
    lines.push(`  ${pct(n, busy)}  ${name}`);
  return lines.join('\n');
}

/** User and kernel CPU seconds of one process so far. */
function cpuOf(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

async function main(): Promise<void> {
  const { mix, auth } = await decideLoadInputs(say);

  const port = 18900 + Math.floor(Math.random() * 100);
  const inspectPort = port + 100;
  const inspect = [`--inspect=127.0.0.1:${inspectPort}`];
  const server =
    mode === 'bare'
      ? await startServer(
          'bare fastify (profiled)',
          process.execPath,
          [...inspect, 'bench/bare-fastify.ts'],
          { PORT: String(port), WORKERS: '1' },
          `http://127.0.0.1:${port}/health`,
        )
      : await startServer(
          'clearance (profiled)',
          process.execPath,
          [...inspect, 'service/server.ts'],
          {
            DATABASE_URL: benchDatabaseUrl,
            PORT: String(port),
            CLEARANCE_WORKERS: '1',
            CLEARANCE_ADMIN_TOKEN: 'bench-admin-token-not-used-by-the-load',
            CLEARANCE_SEED_DEMO: 'false',
            CLEARANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'clearance-profile-')),
            LOG_LEVEL: 'warn',
            DECISION_LOG: mode,
          },
          `http://127.0.0.1:${port}/ready`,
        );
  let profile: CpuProfile;
  try {
    const target = {
      origin: server.origin,
      path: '/v1/decide',
      headers: auth,
      bodies: mix.map((request) => JSON.stringify(request)),
    };
    await runLoad(target, { connections: 32, durationS: 2, warmupS: 3, warmupRequests: 2 * target.bodies.length });
    const devtools = await inspector(server, inspectPort);
    await devtools.send('Profiler.enable');
    await devtools.send('Profiler.setSamplingInterval', { interval: 200 });
    const pid = server.child.pid as number;
    const before = cpuOf(pid);
    await devtools.send('Profiler.start');
    const result = await runLoad(target, { connections: 32, durationS: seconds, warmupS: 0 });
    profile = (await devtools.send('Profiler.stop')).profile as CpuProfile;
    const after = cpuOf(pid);
    devtools.close();
    const perRequest = (s: number) => ((s / Math.max(1, result.requests)) * 1e6).toFixed(0);
    say(
      `${mode === 'bare' ? 'bare Fastify' : `decision log ${mode}`}, 1 process, 32 connections, ${seconds} s: ${result.rps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, load generator ${result.generatorCpu} cores${result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`,
    );
    say(
      `server CPU per request (while profiled): ${perRequest(after.user - before.user)} µs user + ${perRequest(after.system - before.system)} µs kernel`,
    );
  } finally {
    await server.stop();
  }
  const dir = resolve('.build/profiles');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${mode}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stdout.write(`${summarise(profile)}\n\nprofile: ${file}\n`);
}

await main();
