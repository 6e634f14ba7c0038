// `make bench-memory`: the resident memory of Clearance, what holds it, and whether it leaks.
//   load [seconds] [runs]  one Clearance process on PostgreSQL (the benchmark data set, decision
//                          log buffered) driven `runs` times for `seconds` at 32 connections with
//                          the request mix of `make bench`; after each run, once idle and after a
//                          full GC, its RSS and heap, and a heap snapshot (.build/memory/) summed by
//                          constructor, with what grew since the run before, and the fact cache in
//                          it: entries and retained size per kind of fact.
//   tree [seconds] [rounds] [log] [max|req/s] [setting…]
//                          the /v1/decide scenario of `make bench` on two workers, at 32
//                          connections as fast as it answers or at a fixed rate: the peak RSS of
//                          the process tree, req/s, CPU per request, GC time and the fact cache hit
//                          rate, for each setting (Node options on the tree's command line, which
//                          its workers get too, and NAME=value words for its environment;
//                          'default': none), in rounds (memory-tree.ts).
//   pair [seconds] [rounds] [log] [max|req/s] [setting…]
//                          the same with the settings' trees driven side by side, each round.
//   facts                  what the fact cache costs per fact, by kind, in this process (memory-facts.ts).
//   list                   CPU time per 10,000-client list query (bench/list-query.ts) in this process:
//                          run it with the heap options to compare (node --max-semi-space-size=… …).
//   idle                   the embedded engine (PGlite) as `make run` starts it, second start on a
//                          fresh data folder: RSS after 10 s idle and what holds it, at the default
//                          and at smaller PGLITE_SHARED_BUFFERS.
// Usage: node bench/memory.ts load [seconds] [runs] [no-snapshots] | tree|pair [seconds] [rounds]
//        [off|buffered|durable] [max|req/s] [setting…] | facts | list | idle   (BENCH_DATABASE_URL)
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { factCache, type Group, HeapGraph } from './heap-snapshot.ts';
import { runLoad } from './load.ts';
import { runListQueryBench } from './list-query.ts';
import { factsPerMb } from './memory-facts.ts';
import { compareTrees } from './memory-tree.ts';
import { inspector, startServer, type Inspector, type Server } from './processes.ts';
import { mb, residentByMapping, residentOf } from './resident.ts';
import { benchDatabaseUrl, decideLoadInputs } from './setup.ts';

const say = (message: string) => process.stderr.write(`memory: ${message}\n`);
interface Usage {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** The process's own view of its memory, read through the inspector, after a full GC if asked. */
async function usageOf(devtools: Inspector, pid: number, gc: boolean): Promise<Usage> {
  if (gc) await devtools.send('HeapProfiler.collectGarbage');
  const evaluated = (await devtools.send('Runtime.evaluate', {
    expression: 'JSON.stringify(process.memoryUsage())',
    returnByValue: true,
  })) as { result: { value: string } };
  const own = JSON.parse(evaluated.result.value) as Usage;
  return { ...own, rss: residentOf(pid).now };
}

const row = (label: string, u: Usage, extra = '') =>
  `${label.padEnd(48)} ${mb(u.rss)} ${mb(u.heapUsed)} ${mb(u.heapTotal)} ${mb(u.external)} ${mb(u.arrayBuffers)}  ${extra}`;
const HEADER = `${'step'.padEnd(48)} ${'RSS'.padStart(7)} ${'heap'.padStart(7)} ${'heap tot'.padStart(7)} ${'external'.padStart(7)} ${'arrbuf'.padStart(7)}  (MiB)`;

/** Takes heap snapshots through one session: the chunks arrive as events. */
function snapshotter(devtools: Inspector): (file: string) => Promise<void> {
  let chunks: string[] = [];
  devtools.onEvent((method, params) => {
    if (method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(params.chunk as string);
  });
  return async (file) => {
    chunks = [];
    await devtools.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
    writeFileSync(file, chunks.join(''));
    chunks = [];
  };
}

function report(groups: Map<string, Group>, before: Map<string, Group> | null, graph: HeapGraph): string {
  const lines: string[] = [];
  const top = [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, 12);
  lines.push('  largest by self size:');
  for (const [key, g] of top) lines.push(`    ${mb(g.size)} MiB ${String(g.count).padStart(9)}  ${key}`);
  if (before !== null) {
    const grown = [...groups]
      .map(([key, g]) => ({
        key,
        size: g.size - (before.get(key)?.size ?? 0),
        count: g.count - (before.get(key)?.count ?? 0),
      }))
      .filter((d) => d.size > 0)
      .sort((a, b) => b.size - a.size)
      .slice(0, 10);
    lines.push('  grown since the snapshot before:');
    for (const d of grown) lines.push(`    ${mb(d.size)} MiB ${String(d.count).padStart(9)}  ${d.key}`);
  }
  lines.push('  the fact cache, by kind: entries, what it alone retains, and the largest parts of that:');
  for (const kind of factCache(graph)) {
    const parts = kind.largest.map(([key, g]) => `${key} ${g.count} ${(g.size / 1024).toFixed(0)} KiB`).join('; ');
    const each = kind.entries === 0 ? '' : `, ${Math.round(kind.retained / kind.entries)} B each`;
    lines.push(
      `    ${kind.kind.padEnd(15)} ${String(kind.entries).padStart(7)} ${mb(kind.retained)} MiB${each}  (${parts})`,
    );
  }
  return lines.join('\n');
}

async function load(seconds: number, runs: number, snapshots: boolean): Promise<void> {
  const { mix, auth } = await decideLoadInputs(say);

  const port = 19100 + Math.floor(Math.random() * 100);
  const inspectPort = port + 100;
  const server = await startServer(
    'clearance (memory)',
    process.execPath,
    [`--inspect=127.0.0.1:${inspectPort}`, 'service/server.ts'],
    {
      DATABASE_URL: benchDatabaseUrl,
      PORT: String(port),
      CLEARANCE_WORKERS: '1',
      CLEARANCE_ADMIN_TOKEN: 'bench-admin-token-not-used-by-the-load',
      CLEARANCE_SEED_DEMO: 'false',
      CLEARANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'clearance-memory-')),
      LOG_LEVEL: 'warn',
      DECISION_LOG: 'buffered',
    },
    `http://127.0.0.1:${port}/ready`,
  );
  const dir = resolve('.build/memory');
  mkdirSync(dir, { recursive: true });
  const pid = server.child.pid as number;
  const out: string[] = [HEADER];
  try {
    const devtools = await inspector(server, inspectPort);
    const snapshot = snapshotter(devtools);
    await sleep(5000);
    out.push(row('ready, idle', await usageOf(devtools, pid, false)));
    out.push(row('ready, idle, after GC', await usageOf(devtools, pid, true)));
    const target = {
      origin: server.origin,
      path: '/v1/decide',
      headers: auth,
      bodies: mix.map((request) => JSON.stringify(request)),
    };
    let before: Map<string, Group> | null = null;
    const reports: string[] = [];
    for (let run = 1; run <= runs; run += 1) {
      const result = await runLoad(target, { connections: 32, durationS: seconds, warmupS: 0 });
      out.push(
        row(
          `run ${run}: at the end of ${seconds} s`,
          await usageOf(devtools, pid, false),
          `${result.rps} req/s, ${result.non2xx + result.errors} failed`,
        ),
      );
      await sleep(5000);
      out.push(row(`run ${run}: 5 s idle, after GC`, await usageOf(devtools, pid, true)));
      reports.push(`run ${run}, resident memory by mapping:\n${residentByMapping(pid)}`);
      if (!snapshots) continue;
      const file = join(dir, `run-${run}.heapsnapshot`);
      await snapshot(file);
      const graph = new HeapGraph(file);
      const groups = graph.byConstructor();
      reports.push(`run ${run} (${file}):\n${report(groups, before, graph)}`);
      before = groups;
    }
    if (snapshots) {
      out.push(row('after the snapshots, after GC', await usageOf(devtools, pid, true)));
      reports.push(`after the snapshots, resident memory by mapping:\n${residentByMapping(pid)}`);
    }
    devtools.close();
    process.stdout.write(`${out.join('\n')}\n\n${reports.join('\n\n')}\n`);
  } finally {
    await server.stop();
  }
}

/**
 * The embedded engine's idle RSS on its first start (which runs initdb) and its second, at one
 * PGLITE_SHARED_BUFFERS; with where the second start's memory lies.
 */
async function idleEmbedded(sharedBuffers: string | null): Promise<{ rows: string[]; mappings: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'clearance-memory-idle-'));
  const port = 19300 + Math.floor(Math.random() * 100);
  const env = {
    DATABASE_URL: '',
    PORT: String(port),
    CLEARANCE_DATA_DIR: dataDir,
    CLEARANCE_ADMIN_TOKEN: 'bench-admin-token-not-used-by-the-load',
    LOG_LEVEL: 'warn',
    ...(sharedBuffers === null ? {} : { PGLITE_SHARED_BUFFERS: sharedBuffers }),
  };
  const inspectPort = port + 100;
  const label = `PGLITE_SHARED_BUFFERS=${sharedBuffers ?? '(default)'}`;
  const rows: string[] = [];
  let mappings = '';
  for (const which of ['first start', 'second start']) {
    const server: Server = await startServer(
      'clearance (embedded)',
      process.execPath,
      [`--inspect=127.0.0.1:${inspectPort}`, 'service/server.ts'],
      env,
      `http://127.0.0.1:${port}/ready`,
    );
    try {
      const devtools = await inspector(server, inspectPort);
      await sleep(10_000);
      rows.push(row(`${label}, ${which}`, await usageOf(devtools, server.child.pid as number, false)));
      mappings = residentByMapping(server.child.pid as number);
      devtools.close();
    } finally {
      await server.stop();
    }
  }
  return { rows, mappings };
}

const [mode = 'load', first, second, third] = process.argv.slice(2);
if (mode === 'load') {
  const seconds = Number(first ?? 30);
  const runs = Number(second ?? 3);
  if (!(seconds > 0) || !(runs > 0) || (third !== undefined && third !== 'no-snapshots')) {
    throw new Error('usage: node bench/memory.ts load [seconds] [runs] [no-snapshots]');
  }
  await load(seconds, runs, third === undefined);
} else if (mode === 'tree' || mode === 'pair') {
  const [, , , log = 'off', pace = 'max', ...settings] = process.argv.slice(2);
  const seconds = Number(first ?? 10);
  const rounds = Number(second ?? 2);
  const rate = pace === 'max' ? null : Number(pace);
  if (
    !(seconds > 0) ||
    !(rounds > 0) ||
    !['off', 'buffered', 'durable'].includes(log) ||
    (rate !== null && !(rate > 0))
  ) {
    throw new Error(
      `usage: node bench/memory.ts ${mode} [seconds] [rounds] [off|buffered|durable] [max|req/s] [setting…]`,
    );
  }
  const { mix, auth } = await decideLoadInputs(say);
  const load = { bodies: mix.map((request) => JSON.stringify(request)), headers: auth, seconds, rate };
  const chosen = settings.length === 0 ? ['default'] : settings;
  process.stdout.write(`${await compareTrees(mode, chosen, rounds, log, load, say)}\n`);
} else if (mode === 'facts') {
  process.stdout.write(`${await factsPerMb()}\n`);
} else if (mode === 'list') {
  // CPU of 200 queries: a run of 210 less one of 10, each on a fresh database (after one to warm).
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const ran = async (runs: number) => {
    const start = cpu();
    const result = await runListQueryBench({ runs });
    return { ms: cpu() - start, result };
  };
  await ran(10);
  const short = await ran(10);
  const long = await ran(210);
  process.stdout.write(
    `${process.execArgv.join(' ') || 'default'}: ${((long.ms - short.ms) / 200).toFixed(2)} ms of CPU a list query, ` +
      `median ${long.result.median.toFixed(1)} ms, min ${long.result.min.toFixed(1)} ms\n`,
  );
} else if (mode === 'idle') {
  const rows = [HEADER];
  const mappings: string[] = [];
  for (const setting of [null, '16MB', '128MB']) {
    const measured = await idleEmbedded(setting);
    rows.push(...measured.rows);
    mappings.push(
      `PGLITE_SHARED_BUFFERS=${setting ?? '(default)'}, second start, resident memory by mapping:\n${measured.mappings}`,
    );
  }
  process.stdout.write(`${rows.join('\n')}\n\n${mappings.join('\n\n')}\n`);
} else {
  process.stderr.write(
    'usage: node bench/memory.ts load [seconds] [runs] [no-snapshots] | tree|pair [seconds] [rounds] [log] [max|req/s] [setting…] | facts | list | idle\n',
  );
  process.exit(2);
}
