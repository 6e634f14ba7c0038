// Decision log statistics and export at size: two million entries over seven days (daily
// partitions, as bench/log-query.ts fills them), then GET /v1/decisions/stats over the whole window
// by the hour and over its last day by the minute, and GET /v1/decisions/export as CSV over all of
// it (rows per second, the process's peak RSS). Through the whole app on PostgreSQL; the log is
// kept in a database of its own between runs (filling it takes about a minute). Reports medians
// beside the target (stats p50 ≤ 200 ms over two million entries); judges nothing.
//
//   node bench/decision-stats.ts [--runs N] [--exports N] [--json]   (make bench-stats)
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { buildApp } from '../service/app.ts';
import { openDatabase } from '../service/data/connect.ts';
import { migrateToLatest } from '../service/data/migrate.ts';
import { testConfig } from '../test/helpers/config.ts';
import { makeToken } from '../test/helpers/fixtures.ts';
import { machine, timed } from './harness.ts';
import { fillDecisionLog, LOG_ROWS } from './log-query.ts';
import { benchDatabaseUrl, ensureDatabase } from './setup.ts';

export const TARGET_STATS_P50_MS = 200;
const DAYS = 7;

/** The benchmark database's sibling that keeps the seven-day log between runs. */
const statsDatabaseUrl = (() => {
  const url = new URL(benchDatabaseUrl);
  url.pathname = `${url.pathname}_stats`;
  return url.toString();
})();

/** Streams a GET from the listening app to nowhere: rows (lines less the header), bytes and seconds. */
function drain(port: number, path: string, token: string): Promise<{ rows: number; bytes: number; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } });
    request.on('error', reject);
    request.on('response', (response) => {
      if (response.statusCode !== 200) reject(new Error(`${path} answered ${response.statusCode}`));
      let lines = 0;
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines += 1;
      });
      response.on('end', () => resolve({ rows: lines - 1, bytes, seconds: (performance.now() - started) / 1000 }));
      response.on('error', reject);
    });
    request.end();
  });
}

export async function runStatsBench(options: { runs?: number; exports?: number } = {}) {
  const runs = options.runs ?? 9;
  const exportRuns = options.exports ?? 2;
  await ensureDatabase(statsDatabaseUrl);
  const database = await openDatabase({ databaseUrl: statsDatabaseUrl, dataDir: null });
  await migrateToLatest(database.migrationDb);
  const filled = await fillDecisionLog(database.migrationDb, { rows: LOG_ROWS, days: DAYS });
  // As autovacuum leaves a log written over days: the visibility map set, so its indexes answer alone.
  await sql`vacuum (analyze) decision_log`.execute(database.migrationDb);
  const config = testConfig({ databaseUrl: statsDatabaseUrl });
  // The log may be older than the default retention when it is reused: keep it.
  const app = await buildApp({
    config: { ...config, decisionLog: { ...config.decisionLog, retentionDays: 3650 } },
    database,
    logger: false,
  });
  try {
    await app.ready();
    await app.databaseStatus.whenMigrated;
    const token = await makeToken(database.db, ['logs']);
    const { rows: span } = await sql<{ first: Date; last: Date; entries: number }>`
      select min(decided_at) as first, max(decided_at) as last, count(*)::int as entries from decision_log`.execute(
      database.db,
    );
    const { first, last, entries } = span[0] as { first: Date; last: Date; entries: number };
    const until = new Date(new Date(last).getTime() + 1);
    const windows = [
      { name: `whole log (${DAYS} days), bucket=hour`, since: new Date(first), bucket: 'hour' },
      { name: 'last 24 hours, bucket=minute', since: new Date(until.getTime() - 86_400_000), bucket: 'minute' },
    ];
    const stats = [];
    for (const w of windows) {
      const url = `/v1/decisions/stats?since=${w.since.toISOString()}&until=${until.toISOString()}&bucket=${w.bucket}`;
      const timing = await timed(
        w.name,
        () => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } }),
        { warm: 2, runs },
      );
      const { body, ...times } = timing;
      const answer = JSON.parse(body) as { totals: Record<string, number>; buckets: unknown[] };
      const counted = Object.values(answer.totals).reduce((a, b) => a + b, 0);
      stats.push({ window: w.name, entries: counted, buckets: answer.buckets.length, ...times });
    }

    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const exports = [];
    for (let run = 0; run < exportRuns; run++) {
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      const drained = await drain(port, '/v1/decisions/export?format=csv', token).finally(() => clearInterval(sampler));
      exports.push({
        ...drained,
        perSecond: drained.rows / drained.seconds,
        rssBeforeMb: rssBefore / 2 ** 20,
        rssPeakMb: peak / 2 ** 20,
      });
    }
    return { ...machine(), entries, days: DAYS, fillSeconds: filled.seconds, runs, stats, exports };
  } finally {
    await app.close();
  }
}

type Result = Awaited<ReturnType<typeof runStatsBench>>;

export function formatStatsBench(r: Result): string {
  const f = (n: number) => Math.round(n).toLocaleString('en');
  const ms = (n: number) => n.toFixed(0);
  return [
    `decision stats: node ${r.node}, ${r.cpu} (${r.cores} cores, load ${r.loadavg.join(' ')}), PostgreSQL`,
    `  log: ${f(r.entries)} entries over ${r.days} days${r.fillSeconds > 0 ? ` (filled in ${r.fillSeconds.toFixed(0)} s)` : ' (kept from an earlier run)'}`,
    `  GET /v1/decisions/stats, ${r.runs} runs after 2 warm ones (target p50 ≤ ${TARGET_STATS_P50_MS} ms over two million entries):`,
    ...r.stats.map(
      (s) =>
        `    ${s.window}: ${f(s.entries)} entries, ${s.buckets} buckets: median ${ms(s.median)} ms, p95 ${ms(s.p95)}, min ${ms(s.min)}, max ${ms(s.max)}`,
    ),
    `  GET /v1/decisions/export?format=csv over every entry (a real connection, read as fast as it comes):`,
    ...r.exports.map(
      (e) =>
        `    ${f(e.rows)} rows, ${(e.bytes / 2 ** 20).toFixed(0)} MiB in ${e.seconds.toFixed(1)} s: ${f(e.perSecond)} rows/s; RSS ${e.rssBeforeMb.toFixed(0)} MB before, ${e.rssPeakMb.toFixed(0)} MB peak`,
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { runs: { type: 'string' }, exports: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const result = await runStatsBench({
    ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
    ...(values.exports === undefined ? {} : { exports: Number(values.exports) }),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatStatsBench(result));
}
