// `make bench-memory BENCH_ARGS="tree …"` and "pair …": the /v1/decide scenario of `make bench` on a
// two-worker process tree (node:cluster: the supervisor and its workers) serving the local policy
// build, started with given Node options, for its peak resident memory against its throughput and
// the fact cache's hit rate.
//   tree: each setting on its own, in rounds that start one setting further along each time;
//   pair: the settings' trees side by side, warmed and then driven at the same time, so that what
//         else runs on a shared machine falls on all of them alike (their req/s compared as ratios).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadResult } from './load.ts';
import { cpuSeconds, processTree, startServer, type Server } from './processes.ts';
import { peakSampler, residentByMapping, residentOf } from './resident.ts';
import { benchDatabaseUrl } from './setup.ts';
import { median } from './policy-eval.ts';

const WORKERS = 2;
const CONNECTIONS = 32;
const WARM_PASSES = 3;

/** The samples of one metric in a Prometheus text page, by their labels ('' when none). */
function samplesOf(page: string, metric: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of page.split('\n')) {
    const match = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === metric) found.set(match[2] ?? '', Number(match[3]));
  }
  return found;
}

/** What one worker's /metrics says. */
interface Reading {
  hits: number;
  misses: number;
  gcSeconds: number;
  /** V8 heap spaces, committed bytes, by space. */
  spaces: Map<string, number>;
}

/**
 * /metrics of every worker: a connection goes to one worker, so it is read over fresh connections
 * until as many distinct readings as workers have come (between runs the fact counters stand still).
 */
async function readWorkers(origin: string): Promise<Reading[]> {
  const seen = new Map<string, Reading>();
  for (let attempt = 0; attempt < 40 && seen.size < WORKERS; attempt += 1) {
    const page = await (await fetch(`${origin}/metrics`, { headers: { connection: 'close' } })).text();
    const one = (metric: string) => samplesOf(page, metric).get('') ?? 0;
    const reading: Reading = {
      hits: one('clearance_fact_cache_hits_total'),
      misses: one('clearance_fact_cache_misses_total'),
      gcSeconds: [...samplesOf(page, 'nodejs_gc_duration_seconds_sum').values()].reduce((a, b) => a + b, 0),
      spaces: samplesOf(page, 'nodejs_heap_space_size_total_bytes'),
    };
    // Two workers with the same counts are all but impossible; a GC may move the other figures.
    seen.set(`${reading.hits}/${reading.misses}`, reading);
  }
  if (seen.size < WORKERS) throw new Error(`read /metrics of ${seen.size} workers, not ${WORKERS}`);
  return [...seen.values()];
}

export interface TreeRun {
  setting: string;
  load: string;
  rps: number;
  p99: number;
  /** CPU time of the whole tree per request answered in the run, in ms (less bent by a busy machine than req/s). */
  cpuMsPerRequest: number;
  /** Seconds both workers spent in GC during the run, per second of it. */
  gcShare: number;
  /** The fact cache's hit rate over the run, both workers: hits / (hits + misses). */
  hitRate: number;
  /** Peak of the summed RSS of the tree, warm-up and run, MB. */
  peakTree: number;
  /** Peak of the summed proportional set size (shared pages counted once over the tree), MB. */
  peakProportional: number;
  /** VmHWM of each process, the primary first, MB. */
  peaks: number[];
  /** Per worker: the V8 heap spaces committed after the run. */
  heaps: string[];
  /** Each process's resident memory by mapping, right after the run. */
  mappings: string[];
  failed: number;
}

interface Load {
  bodies: string[];
  headers: Record<string, string>;
  seconds: number;
  /** Requests per second (open loop), or null: as fast as 32 connections are answered. */
  rate: number | null;
}

const ADMIN_TOKEN = 'bench-admin-token-not-used-by-the-load';

/**
 * Makes the tree serve the local policy build (make policies), as bench/profile.ts does: the
 * benchmark database keeps whichever revision an earlier run activated, and a new local build is
 * stored inactive. Each worker follows the activation: /ready is read over fresh connections
 * until ten answers in a row name the build.
 */
async function servingLocalBuild(origin: string, say: (message: string) => void): Promise<void> {
  const local = readFileSync('.build/policy/revision', 'utf8').trim();
  const serving = async () =>
    (
      (await (await fetch(`${origin}/ready`, { headers: { connection: 'close' } })).json()) as {
        policy_revision?: string;
      }
    ).policy_revision;
  if ((await serving()) !== local) {
    const activated = await fetch(`${origin}/v1/policies/${local}/activate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (!activated.ok)
      throw new Error(`activating the local build ${local}: ${activated.status} ${await activated.text()}`);
    say(`activated the local policy build ${local}`);
  }
  for (let inARow = 0, tries = 0; inARow < 10; tries += 1) {
    if (tries > 200) throw new Error(`the workers do not all serve the local build ${local}`);
    inARow = (await serving()) === local ? inARow + 1 : 0;
  }
}

/**
 * A tree started as setting says, on the benchmark database: Node options, and NAME=value words
 * for its environment ('default': neither).
 */
async function startTree(setting: string, decisionLog: string): Promise<Server> {
  const port = 19400 + Math.floor(Math.random() * 500);
  const words = setting === 'default' ? [] : setting.split(' ');
  const variables = words.filter((word) => /^[A-Z_]+=/.test(word));
  return startServer(
    `clearance (${setting})`,
    process.execPath,
    [...words.filter((word) => !variables.includes(word)), 'service/server.ts'],
    {
      DATABASE_URL: benchDatabaseUrl,
      PORT: String(port),
      CLEARANCE_WORKERS: String(WORKERS),
      CLEARANCE_ADMIN_TOKEN: ADMIN_TOKEN,
      CLEARANCE_SEED_DEMO: 'false',
      CLEARANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'clearance-memory-')),
      LOG_LEVEL: 'warn',
      DECISION_LOG: decisionLog,
      ...Object.fromEntries(
        variables.map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]),
      ),
    },
    `http://127.0.0.1:${port}/ready`,
  );
}

/**
 * Warms a tree (three passes of the mix: each worker keeps its own cache), waits for `together`
 * (the other trees of a pair being warm too), then drives it for the run.
 */
async function drive(server: Server, setting: string, load: Load, together: () => Promise<void>): Promise<TreeRun> {
  const pids = processTree(server.child.pid as number);
  const peakOf = peakSampler(pids);
  const target = { origin: server.origin, path: '/v1/decide', headers: load.headers, bodies: load.bodies };
  await runLoad(target, {
    connections: CONNECTIONS,
    durationS: 0,
    warmupS: 3,
    warmupRequests: WARM_PASSES * load.bodies.length,
  });
  await together();
  const before = await readWorkers(server.origin);
  const cpuBefore = cpuSeconds(pids);
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const result: LoadResult = await runLoad(target, {
    connections: CONNECTIONS,
    durationS: load.seconds,
    warmupS: 0,
    ...(load.rate === null ? {} : { rate: load.rate }),
  });
  const cpu = cpuSeconds(pids) - cpuBefore;
  const peakTree = peakOf();
  const after = await readWorkers(server.origin);
  const total = (readings: Reading[], f: (r: Reading) => number) => readings.reduce((sum, r) => sum + f(r), 0);
  const delta = (f: (r: Reading) => number) => total(after, f) - total(before, f);
  const space = (r: Reading, name: string) => ((r.spaces.get(`{space="${name}"}`) ?? 0) / 1048576).toFixed(0);
  return {
    setting,
    load: loadAverage,
    rps: result.rps,
    p99: result.latencyMs.p99,
    cpuMsPerRequest: (cpu * 1000) / result.requests,
    gcShare: delta((r) => r.gcSeconds) / result.durationS,
    hitRate: delta((r) => r.hits) / delta((r) => r.hits + r.misses),
    peakTree: Math.round(peakTree.rss / 1048576),
    peakProportional: Math.round(peakTree.pss / 1048576),
    peaks: pids.map((pid) => Math.round(residentOf(pid).peak / 1048576)),
    heaps: after.map((r) => `new ${space(r, 'new')}, old ${space(r, 'old')}, code ${space(r, 'code')} MiB`),
    mappings: pids.map((pid, i) => `${i === 0 ? 'primary' : `worker ${i}`}:\n${residentByMapping(pid)}`),
    failed: result.non2xx + result.errors,
  };
}

/** The settings of one group started, driven (a group of several at the same time) and stopped. */
async function group(
  settings: string[],
  decisionLog: string,
  load: Load,
  say: (message: string) => void,
): Promise<TreeRun[]> {
  const servers: Server[] = [];
  try {
    for (const setting of settings) {
      const server = await startTree(setting, decisionLog);
      servers.push(server);
      await servingLocalBuild(server.origin, say);
    }
    let warm = 0;
    let allWarm: () => void = () => undefined;
    const everyoneWarm = new Promise<void>((resolve) => {
      allWarm = resolve;
    });
    const together = () => {
      warm += 1;
      if (warm === servers.length) allWarm();
      return everyoneWarm;
    };
    return await Promise.all(servers.map((server, i) => drive(server, settings[i] as string, load, together)));
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

const described = (run: TreeRun) =>
  `${run.setting} (load ${run.load}): ${run.rps} req/s, p99 ${run.p99} ms, ${run.cpuMsPerRequest.toFixed(3)} CPU ms/req, ` +
  `GC ${(run.gcShare * 100).toFixed(1)}% of a core, tree peak ${run.peakTree} MB (VmHWM ${run.peaks.join(' + ')}; PSS ${run.peakProportional} MB), ` +
  `hit rate ${(run.hitRate * 100).toFixed(2)}%${run.failed > 0 ? `, ${run.failed} failed` : ''}; ${run.heaps.join('; ')}`;

/**
 * Runs every setting `rounds` times, alone (tree) or side by side (pair), and sums them up: medians
 * and each run's figures; for pairs, each round's req/s as a ratio to the first setting's.
 */
export async function compareTrees(
  mode: 'tree' | 'pair',
  settings: string[],
  rounds: number,
  decisionLog: string,
  load: Load,
  say: (message: string) => void,
): Promise<string> {
  const runs: TreeRun[] = [];
  const ratios = new Map<string, number[]>();
  for (let round = 0; round < rounds; round += 1) {
    // Each round starts one setting further along.
    const order = settings.map((_, i) => settings[(i + round) % settings.length] as string);
    const groups = mode === 'pair' ? [order] : order.map((setting) => [setting]);
    for (const members of groups) {
      const done = await group(members, decisionLog, load, say);
      for (const run of done) say(`round ${round + 1}, ${described(run)}`);
      runs.push(...done);
      if (mode !== 'pair') continue;
      const base = done.find((run) => run.setting === settings[0]) as TreeRun;
      for (const run of done) ratios.set(run.setting, [...(ratios.get(run.setting) ?? []), run.rps / base.rps]);
    }
  }
  const lines = [
    'medians (each run): req/s; CPU ms per request; GC share of a core; tree peak MB (RSS, then PSS); fact cache hit rate',
  ];
  for (const setting of settings) {
    const mine = runs.filter((run) => run.setting === setting);
    const of = (f: (r: TreeRun) => number, digits: number) =>
      `${median(mine.map(f)).toFixed(digits)} (${mine.map((r) => f(r).toFixed(digits)).join(', ')})`;
    const ratio = ratios.get(setting);
    lines.push(
      `${setting}: ${of((r) => r.rps, 0)} req/s; ${of((r) => r.cpuMsPerRequest, 3)} ms; GC ${of((r) => r.gcShare * 100, 1)}%; ` +
        `${of((r) => r.peakTree, 0)} MB RSS, ${of((r) => r.peakProportional, 0)} MB PSS; hit rate ${of((r) => r.hitRate * 100, 2)}%` +
        (ratio === undefined || setting === settings[0]
          ? ''
          : `; req/s against ${settings[0]} in the same round ${median(ratio).toFixed(3)} (${ratio.map((x) => x.toFixed(3)).join(', ')})`),
    );
  }
  const detail = settings.map(
    (setting) =>
      `${setting}, resident memory by mapping right after its first run:\n${runs.find((r) => r.setting === setting)?.mappings.join('\n')}`,
  );
  return `${lines.join('\n')}\n\n${detail.join('\n\n')}`;
}
