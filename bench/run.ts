// `make bench`: Clearance against an OPA server on the same Rego, the bare-Fastify ceiling, policy
// evaluation in process against `opa bench` (the same entrypoints and inputs on both sides),
// batches, the 10,000-client list and a cold cache,
// on the benchmark data set in PostgreSQL. Writes bench/results/latest.json and the results block
// of BENCHMARKS.md. Every decision of the mix is first sent to both Clearance and OPA, and the run
// fails if any answer differs.
// Usage: node bench/run.ts OPA_BINARY   (BENCH_DATABASE_URL, BENCH_QUICK=1 for a short smoke run)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openDatabase } from '../service/data/connect.ts';
import { FactStore } from '../service/domain/facts.ts';
import { PolicyInputBuilder, type DecideRequest, type PolicyInput } from '../service/domain/policy-input.ts';
import { PolicyEngine } from '../service/policy/engine.ts';
import { BIG_PRACTICE, ensureDataset, LIST_SUBJECT } from './dataset.ts';
import { fillDecisionLog, timeLogQueries } from './log-query.ts';
import { migrateToLatest } from '../service/data/migrate.ts';
import { runLoad, type LoadOptions, type LoadResult } from './load.ts';
import { opaBench, spaced, timeEachCall, timeRepeated, VerdictPolicy, verdictMismatches } from './policy-eval.ts';
import { measured, startServer, type Server, type Usage } from './processes.ts';
import { clientCount, requestMix } from './requests.ts';
import { writeReport, type BenchResults, type Scenario } from './report.ts';
import { benchDatabaseUrl, ensureDatabase, mapLimit, prepareRun } from './setup.ts';

const opa = process.argv[2] ?? '.tools/bin/opa';
const quick = process.env.BENCH_QUICK === '1';
const databaseUrl = benchDatabaseUrl;
// A database of its own for the decision log at size, kept between runs.
const logDatabaseUrl = (() => {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname}_log`;
  return url.toString();
})();
const WORKERS = 2;
const CONNECTIONS = 32;
const DURATION_S = quick ? 3 : 10;
const WARMUP_S = quick ? 1 : 3;
const MIX_SIZE = quick ? 1000 : 5000;
const POLICY_DIR = '.build/policy';
// The id of the local build (make policies): the policy every Clearance server must serve.
const LOCAL_REVISION = readFileSync(join(POLICY_DIR, 'revision'), 'utf8').trim();
// Not used by the load: it activates the local build when the database has another active.
const ADMIN_TOKEN = 'bench-admin-token-not-used-by-the-load';

const say = (message: string) => process.stderr.write(`bench: ${message}\n`);
const started = Date.now();

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

let nextPort = 18400 + Math.floor(Math.random() * 500);

/** Servers started and not yet stopped: stopped whatever happens, so none outlives the run. */
const running = new Set<Server>();

async function tracked(server: Promise<Server>): Promise<Server> {
  const s = await server;
  running.add(s);
  const stop = s.stop.bind(s);
  s.stop = async () => {
    running.delete(s);
    await stop();
  };
  return s;
}

async function clearance(env: Record<string, string> = {}): Promise<Server> {
  const port = nextPort++;
  const server = await tracked(
    startServer(
      `clearance ${JSON.stringify(env)}`,
      process.execPath,
      ['service/server.ts'],
      {
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        CLEARANCE_WORKERS: String(WORKERS),
        CLEARANCE_ADMIN_TOKEN: ADMIN_TOKEN,
        CLEARANCE_SEED_DEMO: 'false',
        CLEARANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'clearance-bench-')),
        LOG_LEVEL: 'warn',
        DECISION_LOG: 'buffered',
        ...env,
      },
      `http://127.0.0.1:${port}/ready`,
    ),
  );
  await servingLocalBuild(server);
  return server;
}

/** A GET on a connection of its own, which node:cluster hands to the next worker in turn. */
function getOnce(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/**
 * Waits until every worker serves the local build, the Rego OPA runs: startServer returns at the
 * first worker's /ready, while another may still be loading its policy (its answers are then
 * policy_error); and the benchmark database keeps the revision an earlier run activated (a new
 * local build is stored but left inactive), so the local build is activated when it is not. Done
 * once the supervisor says every worker started and /ready names it 4 times a worker in a row.
 */
async function servingLocalBuild(server: Server): Promise<void> {
  const deadline = Date.now() + 120_000;
  let activated = false;
  for (let inARow = 0; inARow < 4 * WORKERS; ) {
    if (Date.now() > deadline) {
      throw new Error(`${server.name}: not every worker serves the local policy build ${LOCAL_REVISION}`);
    }
    const started = server.output().includes('Clearance is listening on');
    const ready = started ? await getOnce(`${server.origin}/ready`).catch(() => null) : null;
    const serving =
      ready?.status === 200 ? (JSON.parse(ready.body) as { policy_revision?: string }).policy_revision : undefined;
    if (serving === LOCAL_REVISION) {
      inARow++;
      continue;
    }
    inARow = 0;
    if (serving !== undefined && !activated) {
      const response = await fetch(`${server.origin}/v1/policies/${LOCAL_REVISION}/activate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      if (!response.ok) {
        throw new Error(
          `activating the local policy build ${LOCAL_REVISION}: ${response.status} ${await response.text()}`,
        );
      }
      say(`activated the local policy build ${LOCAL_REVISION} (the database had ${serving} active)`);
      activated = true;
    }
    await sleep(100);
  }
}

async function opaServer(decisionLogs: boolean): Promise<Server> {
  const port = nextPort++;
  const args = [
    'run',
    '--server',
    '--addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--skip-version-check',
    '--ignore',
    '*_test.rego',
  ];
  // Decision logs go to the console plugin, which writes at info level; request logs stay off.
  args.push(
    ...(decisionLogs
      ? ['--set', 'decision_logs.console=true', '--log-level', 'info', '--log-level-request', 'error']
      : ['--log-level', 'error']),
  );
  args.push('policies/clearance');
  return tracked(
    startServer(`opa (decision logs ${decisionLogs ? 'on' : 'off'})`, opa, args, {}, `http://127.0.0.1:${port}/health`),
  );
}

async function bareFastify(): Promise<Server> {
  const port = nextPort++;
  return tracked(
    startServer(
      'bare fastify',
      process.execPath,
      ['bench/bare-fastify.ts'],
      { PORT: String(port), WORKERS: String(WORKERS) },
      `http://127.0.0.1:${port}/health`,
    ),
  );
}

// Warm scenarios warm up over the whole list several times: each worker keeps its own cache, and
// a connection stays with one worker.
const WARM_PASSES = 3;

async function load(
  server: Server,
  path: string,
  bodies: string[],
  options: Partial<LoadOptions>,
  headers: Record<string, string> = {},
) {
  const opts: LoadOptions = {
    connections: CONNECTIONS,
    durationS: DURATION_S,
    warmupS: WARMUP_S,
    warmupRequests: WARM_PASSES * bodies.length,
    ...options,
  };
  return measured(server.child.pid as number, () => runLoad({ origin: server.origin, path, headers, bodies }, opts));
}

function scenario(
  id: string,
  title: string,
  target: Scenario['target'],
  run: { result: LoadResult; usage: Usage },
  extra: Partial<Scenario> = {},
): Scenario {
  const { result, usage } = run;
  say(
    `${id} ${result.mode}${result.rate ? ` @${result.rate}/s` : ''}: ${result.rps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, p99.9 ${result.latencyMs.p999} ms, cpu ${usage.cpuCores}, rss ${usage.peakRssMb} MB${result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`,
  );
  return { id, title, target, ...result, ...usage, ...extra };
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;

async function main(): Promise<void> {
  say(`${quick ? 'quick smoke run' : 'full run'} against ${databaseUrl}`);
  await ensureDatabase(databaseUrl);
  const handle = await openDatabase({ databaseUrl, dataDir: null });
  const { db } = handle;
  // Generating the data set is long, one-off work, like a migration: no bound.
  const dataset = await ensureDataset(handle.migrationDb);
  say(
    `data set ${dataset.version} ${dataset.generated ? `generated in ${dataset.seconds.toFixed(1)} s` : 'reused'}: ${JSON.stringify(dataset.rows)}`,
  );
  const auth = await prepareRun(db);

  const mix = await requestMix(db, MIX_SIZE);
  // The input Clearance's policy sees for each request, assembled the service's way (no cache),
  // for OPA and for the in-process measurements.
  const builder = new PolicyInputBuilder(new FactStore(handle, 0));
  const inputs: PolicyInput[] = await mapLimit(mix, 16, (request) => builder.build(request));
  say(`request mix of ${mix.length}, inputs assembled`);

  // In process: the same inputs through the compiled policy, one call timed at a time, before any
  // server runs (measured after them, in a process that has driven minutes of load, the same loop
  // reads a third higher), after one untimed round so the module is compiled to its optimising
  // tier. Three times over: the compact entrypoint (clearance/verdict) alone, the engine's decide,
  // which fills in its messages (what an answer costs), and decideLogged, /v1/decide's one call
  // (the answer and the masks of its log entry).
  const engine = PolicyEngine.load(POLICY_DIR);
  const compact = new VerdictPolicy(POLICY_DIR);
  const mismatched = verdictMismatches(engine, compact, inputs);
  if (mismatched > 0) throw new Error(`${mismatched} verdicts, expanded, differ from the engine's answers`);
  const calls = timeEachCall(engine, compact, inputs, quick ? 2 : 5);
  const summary = (times: number[]) => {
    const sorted = [...times].sort((a, b) => a - b);
    return {
      medianUs: Math.round(percentile(sorted, 0.5) * 100) / 100,
      p99Us: Math.round(percentile(sorted, 0.99) * 100) / 100,
    };
  };
  // And like with like against OPA's Go evaluator: the same few inputs, each timed on its own over
  // and over as `opa bench` times one, on both sides, for the same two entrypoints (`decide`
  // answers what clearance/decision does).
  const samples = spaced(inputs, quick ? 3 : 10);
  const repeated = timeRepeated(engine, compact, samples, quick ? 100 : 250);
  const inProcess: BenchResults['inProcess'] = {
    loadavg: loadavg().map((l) => Number(l.toFixed(2))),
    mix: {
      calls: calls.decide.length,
      verdict: summary(calls.verdict),
      decide: summary(calls.decide),
      logged: summary(calls.logged),
    },
    sameInputs: {
      ...repeated,
      opaVerdict: opaBench(opa, 'data.clearance.verdict', samples),
      opaDecision: opaBench(opa, 'data.clearance.decision', samples),
    },
  };
  say(
    `in process over ${inputs.length} inputs: verdict median ${inProcess.mix.verdict.medianUs} µs, decide median ${inProcess.mix.decide.medianUs} µs, decideLogged median ${inProcess.mix.logged.medianUs} µs; ` +
      `on ${samples.length} inputs, mean µs each: verdict ${repeated.verdict.map((t) => t.toFixed(1)).join(' ')}, ` +
      `opa bench verdict ${inProcess.sameInputs.opaVerdict.map((t) => t.toFixed(0)).join(' ')}, ` +
      `decide ${repeated.decide.map((t) => t.toFixed(1)).join(' ')}, opa bench decision ${inProcess.sameInputs.opaDecision.map((t) => t.toFixed(0)).join(' ')}`,
  );

  const scenarios: Scenario[] = [];

  // OPA first: its peak sets the fixed arrival rate every decide scenario is measured at. It is
  // asked for clearance/decision, the answer Clearance's /v1/decide gives (allow, and reasons with
  // their messages, which Clearance fills in from the policy's table), and the same-answers check
  // below holds the two to it.
  const opaBodies = inputs.map((input) => JSON.stringify({ input }));
  const opaOff = await opaServer(false);
  const opaAnswers = await mapLimit(
    inputs,
    8,
    async (input) => (await post(`${opaOff.origin}/v1/data/clearance/decision`, { input })).body.result,
  );
  const opaPeak = scenario(
    'opa-decide',
    'OPA server, decision logs off',
    'opa',
    await load(opaOff, '/v1/data/clearance/decision', opaBodies, {}),
  );
  scenarios.push(opaPeak);
  const rate = Math.max(100, Math.floor((opaPeak.rps * 0.5) / 100) * 100);
  scenarios.push(
    scenario(
      'opa-decide',
      'OPA server, decision logs off',
      'opa',
      await load(opaOff, '/v1/data/clearance/decision', opaBodies, { rate }),
    ),
  );
  await opaOff.stop();
  const opaOn = await opaServer(true);
  for (const options of [{}, { rate }]) {
    scenarios.push(
      scenario(
        'opa-decide-logged',
        'OPA server, decision logs on (console)',
        'opa',
        await load(opaOn, '/v1/data/clearance/decision', opaBodies, options),
      ),
    );
  }
  await opaOn.stop();

  // Clearance, logging off: first every answer is checked against OPA's.
  const mixBodies = mix.map((request) => JSON.stringify(request));
  let server = await clearance({ DECISION_LOG: 'off' });
  const ours = await mapLimit(
    mix,
    8,
    async (request) => (await post(`${server.origin}/v1/decide`, request, auth)).body,
  );
  const mismatches = ours.flatMap((answer, i) => {
    const theirs = opaAnswers[i] as { allow?: unknown; reasons?: unknown } | undefined;
    const same =
      JSON.stringify({ allow: answer.allow, reasons: answer.reasons }) ===
      JSON.stringify({ allow: theirs?.allow, reasons: theirs?.reasons });
    return same ? [] : [{ request: mix[i] as DecideRequest, clearance: answer, opa: theirs }];
  });
  say(`verification: ${mix.length - mismatches.length} of ${mix.length} answers identical in Clearance and OPA`);
  const allowed = ours.filter((a) => a.allow === true).length;
  for (const options of [{}, { rate }]) {
    scenarios.push(
      scenario(
        'clearance-decide',
        'Clearance /v1/decide, decision log off',
        'clearance',
        await load(server, '/v1/decide', mixBodies, options, auth),
      ),
    );
  }
  await server.stop();

  for (const mode of ['buffered', 'durable'] as const) {
    server = await clearance({ DECISION_LOG: mode });
    for (const options of [{}, { rate }]) {
      scenarios.push(
        scenario(
          `clearance-decide-${mode}`,
          `Clearance /v1/decide, decision log ${mode}`,
          'clearance',
          await load(server, '/v1/decide', mixBodies, options, auth),
        ),
      );
    }
    if (mode === 'buffered') {
      const batches = Array.from({ length: 50 }, (_, b) =>
        JSON.stringify({ requests: mix.slice((b * 100) % mix.length, ((b * 100) % mix.length) + 100) }),
      );
      scenarios.push(
        scenario(
          'clearance-batch-100',
          'Clearance /v1/decide/batch of 100, decision log buffered',
          'clearance',
          await load(server, '/v1/decide/batch', batches, { connections: 8 }, auth),
          {
            decisionsPerRequest: 100,
          },
        ),
      );
      const clients = await clientCount(db, BIG_PRACTICE);
      const query = JSON.stringify({
        subject: { id: LIST_SUBJECT },
        action: 'client.view',
        resource_type: 'client',
        include_denied: true,
      });
      scenarios.push(
        scenario(
          'clearance-query-10k',
          `Clearance /v1/resources/query over ${clients} clients with the greyed-out ones, decision log buffered`,
          'clearance',
          await load(server, '/v1/resources/query', [query], { connections: 1 }, auth),
          {
            decisionsPerRequest: clients,
          },
        ),
      );
    }
    await server.stop();
  }

  server = await clearance({ DECISION_LOG: 'buffered', FACT_CACHE_MAX_ENTRIES: '0' });
  for (const options of [{}, { rate }]) {
    scenarios.push(
      scenario(
        'clearance-decide-cold',
        'Clearance /v1/decide, fact cache off (every fact from PostgreSQL), decision log buffered',
        'clearance',
        await load(server, '/v1/decide', mixBodies, { ...options, warmupRequests: 0 }, auth),
      ),
    );
  }
  await server.stop();

  const bare = await bareFastify();
  for (const options of [{}, { rate }]) {
    scenarios.push(
      scenario(
        'fastify-bare',
        'Bare Fastify: parse the body, answer a constant',
        'fastify',
        await load(bare, '/v1/decide', mixBodies, options),
      ),
    );
  }
  await bare.stop();

  await ensureDatabase(logDatabaseUrl);
  const logHandle = await openDatabase({ databaseUrl: logDatabaseUrl, dataDir: null });
  await migrateToLatest(logHandle.migrationDb);
  const filled = await fillDecisionLog(logHandle.migrationDb);
  // As the service runs them (DatabaseHandle.longDb).
  const logQueries = await timeLogQueries(logHandle.longDb);
  await logHandle.close();
  say(
    `decision log of ${filled.rows.toLocaleString('en')} entries${filled.seconds > 0 ? ` (filled in ${filled.seconds.toFixed(0)} s)` : ''}: ${logQueries.map((q) => `${q.query} ${q.firstPageMs} ms`).join(', ')}`,
  );

  const results: BenchResults = {
    date: new Date().toISOString(),
    quick,
    seconds: Math.round((Date.now() - started) / 1000),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      opa: execFileSync(opa, ['version'], { encoding: 'utf8' }).split('\n')[0]?.replace('Version: ', '') ?? '',
      postgres: String(
        (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(db)).rows[0]?.v,
      ),
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
      policyRevision: engine.revision,
    },
    conditions: {
      workers: WORKERS,
      connections: CONNECTIONS,
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      rate,
      mix: mix.length,
      allowedShare: Math.round((allowed / mix.length) * 100) / 100,
      dataset: dataset.rows,
    },
    verification: { requests: mix.length, mismatches: mismatches.length, examples: mismatches.slice(0, 5) },
    scenarios,
    inProcess,
    decisionLogQueries: { entries: filled.rows, queries: logQueries },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
  writeReport(results, 'BENCHMARKS.md');
  say(`wrote bench/results/latest.json and BENCHMARKS.md in ${results.seconds} s`);
  await handle.close();
  if (mismatches.length > 0) {
    say(`FAILED: ${mismatches.length} answers differ between Clearance and OPA (see verification in latest.json)`);
    process.exit(1);
  }
}

try {
  await main();
} finally {
  await Promise.all([...running].map((server) => server.stop()));
}
