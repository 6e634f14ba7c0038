// `make bench-scale-out`: three separate service processes (each `node service/server.ts` with
// CLEARANCE_WORKERS=1 on a port of its own, no cluster) on the one benchmark database, behind a
// load generator that sends each request to the next process in turn (the warm /v1/decide mix of
// `make bench`, decision log buffered). Two runs: the fact cache on (the default), then off
// (FACT_CACHE_MAX_ENTRIES=0: every fact of every decision from the database). For each: req/s,
// p50/p99, each process's CPU and share of the answers, and what PostgreSQL spent over the window
// until every answered decision was written — the CPU and storage bytes of the backends serving the
// three processes (/proc), the WAL of the benchmark database's transactions (pg_walinspect), fact
// loads (the services' own counters) and pg_stat_database's deltas — per logged decision. Then the
// functional check: all three answered, and the decision log holds every answered decision.
// Two cores cannot show scale-out; these are the figures README "Scaling out" extrapolates from.
//
//   node bench/scale-out.ts [--seconds S] [--connections N] [--json]   (make bench-scale-out; ≤ 2 minutes)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { createPostgresDatabase } from '../test/helpers/database.ts';
import { machine } from './harness.ts';
import type { LoadResult } from './load.ts';
import {
  enableWalInspect,
  holdWal,
  PostgresMeter,
  postmasterPid,
  processCounters,
  walPosition,
  walSpend,
} from './log-insert.ts';
import { processTree, startServer, type Server } from './processes.ts';
import { benchDatabaseUrl, decideLoadInputs } from './setup.ts';

const REPLICAS = 3;
/** The application_name of every connection the replicas open, so their backends can be told apart. */
const APPLICATION = 'clearance-scale-out';

export interface RoundRobinResult extends LoadResult {
  /** Requests answered 2xx by each target, in the order given. */
  answeredBy: number[];
}

/**
 * Closed loop at `connections` requests in flight; request k goes to origins[k % n] with body
 * bodies[k % bodies.length] (the same mix as bench/load.ts, spread in turn). Latency per request,
 * percentiles exact.
 */
export async function roundRobin(
  origins: string[],
  target: { path: string; headers: Record<string, string>; bodies: string[] },
  options: { connections: number; durationS: number; atLeast?: number },
): Promise<RoundRobinResult> {
  const pools = origins.map(
    (origin) => new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 }),
  );
  const headers = { 'content-type': 'application/json', ...target.headers };
  const answeredBy = origins.map(() => 0);
  const samples: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const end = started + options.durationS * 1000;
  try {
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (performance.now() < end || next < (options.atLeast ?? 0)) {
          const k = next++;
          const to = k % pools.length;
          const sent = performance.now();
          try {
            const response = await (pools[to] as Pool).request({
              path: target.path,
              method: 'POST',
              headers,
              body: target.bodies[k % target.bodies.length] as string,
            });
            await response.body.dump();
            if (response.statusCode < 200 || response.statusCode > 299) non2xx += 1;
            else {
              samples.push(performance.now() - sent);
              answeredBy[to] = (answeredBy[to] as number) + 1;
            }
          } catch {
            errors += 1;
          }
        }
      }),
    );
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
  const elapsedS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] ?? 0;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    mode: 'concurrency',
    connections: options.connections,
    rate: null,
    durationS: round(elapsedS),
    requests: samples.length,
    rps: Math.round(samples.length / elapsedS),
    non2xx,
    errors,
    latencyMs: {
      p50: round(at(0.5)),
      p90: round(at(0.9)),
      p99: round(at(0.99)),
      p999: round(at(0.999)),
      max: round(samples[samples.length - 1] ?? 0),
      mean: round(samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)),
    },
    generatorCpu: round((used.user + used.system) / 1e6 / elapsedS),
    answeredBy,
  };
}

/** The service's own counters from /metrics (unlabelled samples), by name. */
async function metrics(origin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const values = new Map<string, number>();
  for (const match of text.matchAll(/^(clearance_[a-z_]+) (\S+)$/gm)) values.set(match[1] as string, Number(match[2]));
  return values;
}

const QUEUE_DEPTH = 'clearance_decision_log_queue_depth';
const FACT_LOADS = 'clearance_fact_cache_misses_total';
const LOG_WRITES = 'clearance_decision_log_write_duration_seconds_count';
const LOG_ENTRIES = 'clearance_decision_log_entries_written_total';

/** The replicas' counters that say what they asked of the database, summed. */
async function replicaCounters(servers: Server[]): Promise<Record<string, number>> {
  const all = await Promise.all(servers.map((s) => metrics(s.origin)));
  return Object.fromEntries(
    [FACT_LOADS, LOG_WRITES, LOG_ENTRIES].map((name) => [name, sum(all.map((m) => m.get(name) ?? 0))]),
  );
}

/** Waits until every replica's decision log queue is empty (the answered decisions written). */
async function drained(servers: Server[], timeoutMs = 60_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const depths = await Promise.all(servers.map(async (s) => (await metrics(s.origin)).get(QUEUE_DEPTH) ?? 0));
    if (depths.every((d) => d === 0)) return;
    await sleep(100);
  }
  throw new Error('the decision log queues did not drain within a minute');
}

const cpuSeconds = (root: number) =>
  processTree(root).reduce((sum, pid) => sum + (processCounters(pid)?.cpuNs ?? 0) / 1e9, 0);

/** pg_stat_database's counters for the benchmark database (shared with anyone else using it). */
async function databaseCounters(client: pg.Client): Promise<Record<string, number>> {
  // The statistics a backend gathered reach the shared counters when it goes idle, at most once a second.
  const { rows } = await client.query(
    `select xact_commit, tup_returned, tup_fetched, tup_inserted, blks_read, blks_hit
     from pg_stat_database where datname = current_database()`,
  );
  return Object.fromEntries(Object.entries(rows[0] as Record<string, string>).map(([k, v]) => [k, Number(v)]));
}

/** pg_stat_bgwriter's and pg_stat_wal's counters: the whole server's, whoever caused them. */
async function serverCounters(client: pg.Client): Promise<Record<string, number>> {
  const { rows } = await client.query(
    `select checkpoints_timed + checkpoints_req as checkpoints, buffers_checkpoint, buffers_clean, buffers_backend,
            wal_records, wal_fpi, wal_bytes, wal_write, wal_sync
     from pg_stat_bgwriter, pg_stat_wal`,
  );
  return Object.fromEntries(Object.entries(rows[0] as Record<string, string>).map(([k, v]) => [k, Number(v)]));
}

const delta = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] as number) - (before[k] as number)]));

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * The production shape first; then every fact from the database with the log off, so that all
 * PostgreSQL does is load facts (the token's included) and its CPU divides by the loads counted.
 */
const RUNS = [
  { name: 'fact cache on, log buffered', log: 'buffered', cache: true, warmupPasses: 3 },
  { name: 'fact cache off, log off', log: 'off', cache: false, warmupPasses: 0 },
] as const;

export async function runScaleOutBench(options: { seconds?: number; connections?: number } = {}) {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 32;
  const started = performance.now();
  const say = (message: string) =>
    process.stderr.write(`scale-out: ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s: ${message}\n`);
  const { mix, auth } = await decideLoadInputs(say);
  const bodies = mix.map((request) => JSON.stringify(request));
  const before = machine();

  const monitorUrl = new URL(benchDatabaseUrl);
  monitorUrl.searchParams.set('application_name', `${APPLICATION}-monitor`);
  const monitor = new pg.Client({ connectionString: monitorUrl.toString() });
  await monitor.connect();
  // pg_walinspect reads the whole server's WAL from any database: a scratch one holds it, so the
  // shared benchmark database is left as it is.
  const scratch = await createPostgresDatabase();
  const walClient = new pg.Client({ connectionString: scratch.url });
  await walClient.connect();
  try {
    const inspect = await enableWalInspect(walClient);
    const { rows: self } = await monitor.query<{ oid: number; name: string; pid: number }>(
      'select oid::int as oid, datname as name, pg_backend_pid() as pid from pg_database where datname = current_database()',
    );
    const { oid, name: database, pid: monitorPid } = self[0] as { oid: number; name: string; pid: number };
    const meter = new PostgresMeter(await postmasterPid(monitor));
    const results = [];
    for (const run of RUNS) {
      const basePort = 19000 + Math.floor(Math.random() * 500) * 3;
      const servers = await Promise.all(
        Array.from({ length: REPLICAS }, (_, i) => {
          const url = new URL(benchDatabaseUrl);
          url.searchParams.set('application_name', `${APPLICATION}-${i + 1}`);
          return startServer(
            `clearance replica ${i + 1}`,
            process.execPath,
            ['service/server.ts'],
            {
              DATABASE_URL: url.toString(),
              PORT: String(basePort + i),
              CLEARANCE_WORKERS: '1',
              CLEARANCE_ADMIN_TOKEN: 'bench-admin-token-not-used-by-the-load',
              CLEARANCE_SEED_DEMO: 'false',
              CLEARANCE_DATA_DIR: mkdtempSync(join(tmpdir(), `clearance-scale-out-${i + 1}-`)),
              LOG_LEVEL: 'warn',
              DECISION_LOG: run.log,
              ...(run.cache ? {} : { FACT_CACHE_MAX_ENTRIES: '0' }),
            },
            `http://127.0.0.1:${basePort + i}/ready`,
          );
        }),
      );
      try {
        say(`${run.name}: ${REPLICAS} replicas ready`);
        const origins = servers.map((s) => s.origin);
        const target = { path: '/v1/decide', headers: auth, bodies };
        const self = (await (await fetch(`${servers[0]?.origin}/v1/tokens/self`, { headers: auth })).json()) as {
          id: string;
        };
        const logged = async () =>
          Number(
            (await monitor.query('select count(*) from decision_log where token_id = $1', [self.id])).rows[0].count,
          );
        const loggedBefore = await logged();
        // The benchmark database is shared: another benchmark's start truncates decision_log (bench/setup.ts
        // prepareRun), which gives its partitions new files. Then only the replicas' own counters can tell.
        const logFiles = async () =>
          String(
            (
              await monitor.query(
                `select string_agg(pg_relation_filenode(inhrelid)::text, ',' order by inhrelid) as files
                 from pg_inherits where inhparent = 'decision_log'::regclass`,
              )
            ).rows[0].files,
          );
        const filesBefore = await logFiles();
        // Warm: each replica keeps its own cache, so each must see the whole mix (5,000 bodies spread
        // over 3 replicas in turn: every body reaches every replica once in 3 passes).
        const warm = await roundRobin(origins, target, {
          connections,
          durationS: run.warmupPasses === 0 ? 3 : 5,
          atLeast: run.warmupPasses * bodies.length,
        });
        await drained(servers);
        say(`${run.name}: warmed up on ${warm.requests} requests in ${warm.durationS} s`);
        await sleep(1200); // pg_stat_database catches up with what the warm-up did
        const loadBefore = machine().loadavg;
        const countersBefore = await replicaCounters(servers);
        const statsBefore = await databaseCounters(monitor);
        const serverBefore = await serverCounters(monitor);
        const cpuBefore = servers.map((s) => cpuSeconds(s.child.pid as number));
        const held = inspect ? await holdWal(walClient) : null;
        const walFrom = await walPosition(monitor);
        meter.start();
        // Which backends serve the replicas: their connections carry the replicas' application_name.
        const serving = new Set<number>();
        const follow = async () => {
          const { rows } = await monitor.query<{ pid: number }>(
            `select pid from pg_stat_activity where application_name ~ $1`,
            [`^${APPLICATION}-[0-9]+$`],
          );
          for (const { pid } of rows) serving.add(pid);
        };
        await follow();
        const following = setInterval(() => void follow().catch(() => undefined), 500);
        const load = await roundRobin(origins, target, { connections, durationS: seconds }).finally(() =>
          clearInterval(following),
        );
        const cpuAfter = servers.map((s) => cpuSeconds(s.child.pid as number));
        const loadEnded = performance.now();
        await drained(servers);
        const spent = meter.stop();
        const walTo = await walPosition(monitor);
        const drainedAt = performance.now();
        await sleep(1200);
        const statsAfter = await databaseCounters(monitor);
        const server = delta(await serverCounters(monitor), serverBefore);
        const counted = delta(await replicaCounters(servers), countersBefore);
        const wal = await walSpend(walClient, walFrom, walTo, oid, held !== null).finally(() => held?.release());
        const loggedAfter = await logged();
        const truncated = (await logFiles()) !== filesBefore;
        const written = (await replicaCounters(servers))[LOG_ENTRIES] as number;
        const decisions = load.requests;
        await follow();
        const ours = spent((p) => serving.has(p.pid));
        const others = spent((p) => p.database === database && !serving.has(p.pid) && p.pid !== monitorPid);
        const perDecision = (value: number) => value / decisions;
        const stats = delta(statsAfter, statsBefore);
        const result = {
          run: run.name,
          loadavg: loadBefore,
          load,
          warmup: { requests: warm.requests, non2xx: warm.non2xx, errors: warm.errors },
          replicas: servers.map((s, i) => ({
            name: s.name,
            answered: load.answeredBy[i] as number,
            cpuCores: ((cpuAfter[i] as number) - (cpuBefore[i] as number)) / load.durationS,
            cpuUsPerRequest:
              (((cpuAfter[i] as number) - (cpuBefore[i] as number)) * 1e6) / (load.answeredBy[i] as number),
          })),
          postgres: {
            backendCpuS: ours.cpuS,
            backends: ours.processes,
            cpuUsPerDecision: perDecision(ours.cpuS * 1e6),
            cpuCores: ours.cpuS / load.durationS,
            drainS: (drainedAt - loadEnded) / 1000,
            readBytesPerDecision: perDecision(ours.readBytes),
            writeBytesPerDecision: perDecision(ours.writeBytes),
            walBytesPerDecision: perDecision(wal.bytes),
            fpiBytesPerDecision: perDecision(wal.fpiBytes),
            walAttributed: wal.attributed,
            serverWalBytes: wal.serverBytes,
            sharedCpuS: spent((p) => p.shared).cpuS,
            sharedWriteBytes: spent((p) => p.shared).writeBytes,
            otherDatabasesCpuS: spent((p) => !p.shared && p.database !== database).cpuS,
            otherBackendsOfThisDatabaseCpuS: others.cpuS,
            factLoadsPerDecision: perDecision(counted[FACT_LOADS] as number),
            logWrites: counted[LOG_WRITES] as number,
            entriesPerLogWrite:
              counted[LOG_WRITES] === 0 ? 0 : (counted[LOG_ENTRIES] as number) / (counted[LOG_WRITES] as number),
            statsPerDecision: Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, perDecision(v)])),
            /** The whole server's, over the window and the drain (other people's work included). */
            server,
          },
          log: {
            mode: run.log,
            answered: warm.requests + load.requests,
            refusedOrFailed: warm.non2xx + warm.errors + load.non2xx + load.errors,
            /** What the replicas' writers committed, by their own counters. */
            written,
            /** What decision_log holds of it now (short when another client truncated it meanwhile). */
            logged: loggedAfter - loggedBefore,
            truncated,
          },
        };
        results.push(result);
        say(
          `${run.name}: ${load.rps} req/s (${load.answeredBy.join(' + ')}), p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms; ` +
            `PostgreSQL ${result.postgres.cpuUsPerDecision.toFixed(0)} µs CPU, ${Math.round(result.postgres.walBytesPerDecision)} B WAL, ` +
            `${result.postgres.factLoadsPerDecision.toFixed(2)} fact loads per decision; log ${result.log.logged} of ${result.log.answered} answered`,
        );
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    return { before, after: machine(), seconds, connections, replicas: REPLICAS, mixSize: mix.length, results };
  } finally {
    await walClient.end().catch(() => undefined);
    await monitor.end().catch(() => undefined);
    await scratch.drop();
  }
}

type Result = Awaited<ReturnType<typeof runScaleOutBench>>;

/** Every answered decision has its entry; a refused one may have one too (a refusal is logged). */
const logComplete = (log: {
  mode: string;
  answered: number;
  refusedOrFailed: number;
  written: number;
  logged: number;
  truncated: boolean;
}) => {
  const all = (n: number) => n >= log.answered && n <= log.answered + log.refusedOrFailed;
  const none = log.written === 0 && (log.truncated || log.logged === 0);
  return log.mode === 'off' ? none : all(log.written) && (log.truncated || all(log.logged));
};

export function formatScaleOutBench(r: Result): string {
  const f = (n: number, digits = 0) =>
    n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lines = [
    `scale-out: ${r.replicas} service processes (CLEARANCE_WORKERS=1 each) on one PostgreSQL, round-robin, ${r.connections} connections, ${r.seconds} s measured per run`,
    `  node ${r.before.node}, ${r.before.cpu} (${r.before.cores} cores, shared with other work), load ${r.before.loadavg.join(' ')} at the start, ${r.after.loadavg.join(' ')} at the end`,
  ];
  for (const x of r.results) {
    const pgs = x.postgres;
    const stats = pgs.statsPerDecision;
    lines.push(
      `  ${x.run} (load ${x.loadavg.join(' ')}): ${f(x.load.rps)} req/s, p50 ${x.load.latencyMs.p50} ms, p99 ${x.load.latencyMs.p99} ms` +
        `${x.load.non2xx + x.load.errors > 0 ? `, ${x.load.non2xx} non-2xx, ${x.load.errors} errors` : ''}; load generator ${x.load.generatorCpu} cores`,
      ...x.replicas.map(
        (p) =>
          `    ${p.name}: ${f(p.answered)} answered, ${f(p.cpuCores, 2)} cores, ${f(p.cpuUsPerRequest)} µs CPU per request`,
      ),
      `    PostgreSQL, per ${x.log.mode === 'off' ? '' : 'logged '}decision (the ${pgs.backends} backends serving the replicas, over the window and the ${f(pgs.drainS, 1)} s drain): ` +
        `${f(pgs.cpuUsPerDecision, 1)} µs CPU (${f(pgs.cpuCores, 2)} cores for the window's length), storage read ${f(pgs.readBytesPerDecision)} B, ` +
        `written ${f(pgs.writeBytesPerDecision)} B; WAL ${f(pgs.walBytesPerDecision)} B (full-page images ${f(pgs.fpiBytesPerDecision)} B)${pgs.walAttributed ? '' : ' (the whole server)'}`,
      `    log writes: ${f(pgs.logWrites)} (${f(pgs.entriesPerLogWrite, 1)} entries each); fact loads from the database: ${f(pgs.factLoadsPerDecision, 2)} per decision; pg_stat_database per decision: ` +
        `${f(stats.xact_commit ?? 0, 2)} commits, ${f(stats.tup_returned ?? 0, 1)} tuples returned, ${f(stats.tup_fetched ?? 0, 1)} fetched, ` +
        `${f(stats.tup_inserted ?? 0, 2)} inserted, ${f(stats.blks_hit ?? 0, 1)} buffer hits, ${f(stats.blks_read ?? 0, 2)} reads`,
      `    shared meanwhile: WAL writer, checkpointer, background writer ${f(pgs.sharedCpuS, 2)} CPU s, ${f(pgs.sharedWriteBytes / 2 ** 20, 1)} MiB written; ` +
        `other databases' backends ${f(pgs.otherDatabasesCpuS, 2)} CPU s; other backends of this database ${f(pgs.otherBackendsOfThisDatabaseCpuS, 2)} CPU s`,
      `    the whole server meanwhile: ${pgs.server.checkpoints} checkpoints; buffers written by backends ${f(pgs.server.buffers_backend ?? 0)}, ` +
        `by the checkpointer ${f(pgs.server.buffers_checkpoint ?? 0)}, the background writer ${f(pgs.server.buffers_clean ?? 0)}; ` +
        `WAL ${f((pgs.server.wal_bytes ?? 0) / 2 ** 20, 1)} MiB in ${f(pgs.server.wal_sync ?? 0)} syncs`,
      x.log.mode === 'off'
        ? `    log off: the replicas wrote ${f(x.log.written)} entries` +
            `${x.log.truncated ? ' (decision_log was truncated meanwhile by another client)' : `, decision_log gained ${f(x.log.logged)}`}` +
            `${logComplete(x.log) ? '' : ' (MISMATCH: expected none)'}`
        : `    log: ${f(x.log.answered)} decisions answered (warm-up included)` +
            `${x.log.refusedOrFailed > 0 ? `, ${x.log.refusedOrFailed} refused or failed` : ''}; the replicas wrote ${f(x.log.written)} entries` +
            ` and decision_log holds ${f(x.log.logged)}` +
            `${x.log.truncated ? ' (it was truncated meanwhile by another client of the benchmark database)' : ''}: ` +
            `${logComplete(x.log) ? 'every answered decision logged' : 'MISMATCH'}`,
    );
  }
  const off = r.results.find((x) => x.log.mode === 'off');
  if (off !== undefined) {
    const { cpuUsPerDecision, factLoadsPerDecision, statsPerDecision } = off.postgres;
    lines.push(
      `  per fact load (cache and log off): ${f(cpuUsPerDecision, 1)} µs / ${f(factLoadsPerDecision, 2)} loads = ${f(cpuUsPerDecision / factLoadsPerDecision, 1)} µs of PostgreSQL CPU` +
        ` (${f((statsPerDecision.xact_commit ?? 0) / factLoadsPerDecision, 2)} transactions and ${f((statsPerDecision.tup_returned ?? 0) / factLoadsPerDecision, 1)} tuples returned per load)`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      connections: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const result = await runScaleOutBench({
    ...(values.seconds === undefined ? {} : { seconds: Number(values.seconds) }),
    ...(values.connections === undefined ? {} : { connections: Number(values.connections) }),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatScaleOutBench(result));
  const failed = result.results.filter((x) => !logComplete(x.log) || x.replicas.some((p) => p.answered === 0));
  if (failed.length > 0) process.exitCode = 1;
}
