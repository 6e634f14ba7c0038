// `make bench-profile`: where a serving process spends its CPU on /v1/decide. Runs one Clearance
// process (no workers, so one profile holds everything) on the benchmark data set, warms it with
// the request mix of `make bench`, then profiles it through the inspector while the mix is sent at
// 32 connections — the steady state only, not start-up or cache warming — and prints the user and
// kernel CPU per request, the self time by area and the heaviest functions. The .cpuprofile it
// leaves opens as a flame graph in Chrome DevTools (Performance → Load profile) or speedscope.
// `bare` profiles the bare-Fastify ceiling the same way, for comparison. The CPU per request is
// given for the serving thread (the main thread, which the profile covers) and for the process's
// other threads by name (the decision log's writer thread, libuv's pool, V8's helpers), from /proc.
// `cpu` as the third argument measures the same without the profiler, whose own cost it adds;
// `alloc` samples what the serving thread allocates instead (bytes per request, by function).
// Usage: node bench/profile.ts [off|buffered|durable|bare] [seconds] [profile|cpu|alloc]   (BENCH_DATABASE_URL)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runLoad } from './load.ts';
import { type AllocationNode, area, functionKey, summariseAllocations } from './profile-areas.ts';
import { inspector, startServer } from './processes.ts';
import { benchDatabaseUrl, decideLoadInputs } from './setup.ts';

const mode = process.argv[2] ?? 'buffered';
const seconds = Number(process.argv[3] ?? 20);
const what = process.argv[4] ?? 'profile';
if (
  !['off', 'buffered', 'durable', 'bare'].includes(mode) ||
  !(seconds > 0) ||
  !['profile', 'cpu', 'alloc'].includes(what)
) {
  process.stderr.write('usage: node bench/profile.ts [off|buffered|durable|bare] [seconds] [profile|cpu|alloc]\n');
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
    const key = functionKey(functionName, url, lineNumber);
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

interface Cpu {
  user: number;
  system: number;
}

/** User and kernel CPU seconds so far of a process or one of its threads, from its stat file. */
function cpuIn(statFile: string): Cpu {
  const fields = readFileSync(statFile, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** The process's CPU so far, whole and by thread: the serving (main) thread, the others by name. */
function cpuOf(pid: number): { whole: Cpu; threads: Map<string, Cpu> } {
  const threads = new Map<string, Cpu>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name =
        Number(tid) === pid ? 'serving thread' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const cpu = cpuIn(`/proc/${pid}/task/${tid}/stat`);
      const sum = threads.get(name) ?? { user: 0, system: 0 };
      threads.set(name, { user: sum.user + cpu.user, system: sum.system + cpu.system });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return { whole: cpuIn(`/proc/${pid}/stat`), threads };
}

const ADMIN_TOKEN = 'bench-admin-token-not-used-by-the-load';

/**
 * Waits until the server answers with the local policy build (make policies): the benchmark
 * database keeps whichever revision an earlier run activated, and a new local build is stored
 * inactive, so it is activated when another is.
 */
async function servingLocalBuild(origin: string): Promise<void> {
  const local = readFileSync(resolve('.build/policy/revision'), 'utf8').trim();
  const serving = async () =>
    ((await (await fetch(`${origin}/ready`)).json()) as { policy_revision?: string }).policy_revision;
  if ((await serving()) === local) return;
  const activated = await fetch(`${origin}/v1/policies/${local}/activate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (!activated.ok)
    throw new Error(`activating the local build ${local}: ${activated.status} ${await activated.text()}`);
  for (let i = 0; i < 100 && (await serving()) !== local; i++) await new Promise((r) => setTimeout(r, 100));
  if ((await serving()) !== local) throw new Error(`the server does not serve the local build ${local}`);
  say(`activated the local policy build ${local}`);
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
            CLEARANCE_ADMIN_TOKEN: ADMIN_TOKEN,
            CLEARANCE_SEED_DEMO: 'false',
            CLEARANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'clearance-profile-')),
            LOG_LEVEL: 'warn',
            DECISION_LOG: mode,
            // Whether the log is written by a thread of its own (on unless set off here).
            ...(process.env.DECISION_LOG_THREAD === undefined
              ? {}
              : { DECISION_LOG_THREAD: process.env.DECISION_LOG_THREAD }),
          },
          `http://127.0.0.1:${port}/ready`,
        );
  let profile: CpuProfile | null;
  try {
    if (mode !== 'bare') await servingLocalBuild(server.origin);
    const target = {
      origin: server.origin,
      path: '/v1/decide',
      headers: auth,
      bodies: mix.map((request) => JSON.stringify(request)),
    };
    await runLoad(target, { connections: 32, durationS: 2, warmupS: 3, warmupRequests: 2 * target.bodies.length });
    const devtools = what === 'cpu' ? null : await inspector(server, inspectPort);
    if (what === 'profile') {
      await devtools?.send('Profiler.enable');
      await devtools?.send('Profiler.setSamplingInterval', { interval: 200 });
    }
    const pid = server.child.pid as number;
    const before = cpuOf(pid);
    if (what === 'profile') await devtools?.send('Profiler.start');
    if (what === 'alloc')
      await devtools?.send('HeapProfiler.startSampling', {
        samplingInterval: 8192,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    const result = await runLoad(target, { connections: 32, durationS: seconds, warmupS: 0 });
    profile =
      what === 'profile'
        ? (((await devtools?.send('Profiler.stop'))?.profile as CpuProfile | undefined) ?? null)
        : null;
    const allocations =
      what === 'alloc'
        ? ((await devtools?.send('HeapProfiler.stopSampling'))?.profile as { head: AllocationNode } | undefined)
        : undefined;
    const after = cpuOf(pid);
    devtools?.close();
    if (allocations !== undefined)
      process.stdout.write(`${summariseAllocations(allocations.head, result.requests)}\n\n`);
    const perRequest = (s: number) => ((s / Math.max(1, result.requests)) * 1e6).toFixed(0);
    const while_ = what === 'cpu' ? 'not profiled' : `while ${what === 'alloc' ? 'sampling allocations' : 'profiled'}`;
    say(
      `${mode === 'bare' ? 'bare Fastify' : `decision log ${mode}`}, 1 process, 32 connections, ${seconds} s: ${result.rps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, load generator ${result.generatorCpu} cores${result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`,
    );
    say(
      `server CPU per request (${while_}): ${perRequest(after.whole.user - before.whole.user)} µs user + ${perRequest(after.whole.system - before.whole.system)} µs kernel, of which by thread:`,
    );
    const byThread = [...after.threads]
      .map(([name, cpu]) => {
        const was = before.threads.get(name) ?? { user: 0, system: 0 };
        return { name, user: cpu.user - was.user, system: cpu.system - was.system };
      })
      .filter((t) => t.user + t.system > 0)
      .sort((a, b) => b.user + b.system - (a.user + a.system));
    for (const t of byThread)
      say(
        `  ${t.name.padEnd(18)} ${perRequest(t.user).padStart(5)} µs user + ${perRequest(t.system).padStart(4)} µs kernel`,
      );
  } finally {
    await server.stop();
  }
  if (profile === null) return;
  const dir = resolve('.build/profiles');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${mode}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stdout.write(`${summarise(profile)}\n\nprofile: ${file}\n`);
}

await main();
