// `make bench-memory`: the resident memory of a serving process, and whether it leaks.
//   load [seconds] [runs]  one Clearance process on PostgreSQL (the benchmark data set, decision
//                          log buffered) driven `runs` times for `seconds` at 32 connections with
//                          the request mix of `make bench`; after each run, once idle and after a
//                          full GC, its RSS and heap, and a heap snapshot (.build/memory/) summed by
//                          constructor, with what grew since the run before.
//   idle                   the embedded engine (PGlite) as `make run` starts it, second start on a
//                          fresh data folder: RSS after 10 s idle and what holds it, at the default
//                          and at smaller PGLITE_SHARED_BUFFERS.
// Usage: node bench/memory.ts load [seconds] [runs] [no-snapshots] | idle   (BENCH_DATABASE_URL)
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from './load.ts';
import { inspector, startServer, type Inspector, type Server } from './processes.ts';
import { benchDatabaseUrl, decideLoadInputs } from './setup.ts';

const say = (message: string) => process.stderr.write(`memory: ${message}\n`);
const mb = (bytes: number) => (bytes / 1048576).toFixed(1).padStart(7);

/** RSS of a process, from /proc, in bytes. */
function rssOf(pid: number): number {
  const line =
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
}

/**
 * Where a process's resident memory lies, from /proc/<pid>/smaps: the brk heap (malloc's main
 * arena), anonymous mappings by size class (malloc's other arenas reserve 64 MiB each; V8 maps its
 * heap in 256 KiB pages within a reserved cage), and mapped files.
 */
function residentByMapping(pid: number): string {
  const totals = new Map<string, number>();
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) {
      const size = (parseInt(header[2] as string, 16) - parseInt(header[1] as string, 16)) / 1048576;
      const path = header[3] ?? '';
      kind =
        path === '[heap]'
          ? 'brk heap (malloc main arena)'
          : path.startsWith('/')
            ? 'mapped files'
            : path !== ''
              ? path
              : size >= 60 && size <= 64
                ? 'anonymous, 60-64 MiB (malloc arenas)'
                : size > 64
                  ? 'anonymous, over 64 MiB'
                  : 'anonymous, under 60 MiB';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) totals.set(kind, (totals.get(kind) ?? 0) + Number(rss[1]) * 1024);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${mb(v)} MiB  ${k}`)
    .join('\n');
}

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
  return { ...own, rss: rssOf(pid) };
}

const row = (label: string, u: Usage, extra = '') =>
  `${label.padEnd(48)} ${mb(u.rss)} ${mb(u.heapUsed)} ${mb(u.heapTotal)} ${mb(u.external)} ${mb(u.arrayBuffers)}  ${extra}`;
const HEADER = `${'step'.padEnd(48)} ${'RSS'.padStart(7)} ${'heap'.padStart(7)} ${'heap tot'.padStart(7)} ${'external'.padStart(7)} ${'arrbuf'.padStart(7)}  (MiB)`;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per (node type, constructor or name), from a .heapsnapshot. */
function summarise(file: string): Map<string, { count: number; size: number }> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const groups = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] as number] as string;
    // Strings and code are grouped by type alone: their names are their contents.
    const name = ['string', 'concatenated string', 'sliced string', 'code', 'number'].includes(type)
      ? ''
      : (heap.strings[heap.nodes[i + nameAt] as number] ?? '');
    const key = `${type}${name === '' ? '' : ` ${name.slice(0, 60)}`}`;
    const group = groups.get(key) ?? { count: 0, size: 0 };
    group.count += 1;
    group.size += heap.nodes[i + sizeAt] as number;
    groups.set(key, group);
  }
  return groups;
}

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

function report(
  groups: Map<string, { count: number; size: number }>,
  before: Map<string, { count: number; size: number }> | null,
): string {
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
    let before: Map<string, { count: number; size: number }> | null = null;
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
      const groups = summarise(file);
      reports.push(`run ${run} (${file}):\n${report(groups, before)}`);
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
  process.stderr.write('usage: node bench/memory.ts load [seconds] [runs] [no-snapshots] | idle\n');
  process.exit(2);
}
