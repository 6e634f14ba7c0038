// Access review export benchmark: GET /v1/accounts/{id}/access-review over an account of 200
// users × 10,000 clients (2 million rows), served over HTTP by the whole app on PostgreSQL, read
// by a client that counts and discards the body. Reports rows per second and the serving process's
// memory beside the target (≥ 200,000 rows/s, issue 18); judges nothing.
//
//   node bench/access-review.ts [--users N] [--clients N] [--format csv|ndjson] [--json]   (make bench-access-review)
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Prng } from '../test/differential/json.ts';
import { makeToken } from '../test/helpers/fixtures.ts';
import { machine, onFreshDatabase, practiceUsers } from './harness.ts';

export const TARGET_ROWS_PER_S = 200_000;
const ACCOUNT = 'bench-practice';

export interface AccessReviewBenchResult {
  node: string;
  cpu: string;
  cores: number;
  loadavg: number[];
  format: string;
  users: number;
  clients: number;
  rows: number;
  bytes: number;
  runs: number[];
  rowsPerSecond: number;
  heapBeforeMb: number;
  peakRssMb: number;
  rssBeforeMb: number;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

export async function runAccessReviewBench(options: { users?: number; clients?: number; format?: string } = {}) {
  const userCount = options.users ?? 200;
  const clientCount = options.clients ?? 10_000;
  const format = options.format ?? 'csv';
  return onFreshDatabase(async (app, db): Promise<AccessReviewBenchResult> => {
    const rng = new Prng(0xa11ce);
    await db.insertInto('accounts').values({ id: ACCOUNT, name: 'Bench Practice', kind: 'practice' }).execute();
    const ledgers = ['xero', 'xero', 'myob', 'quickbooks', 'none'] as const;
    const clients = Array.from({ length: clientCount }, (_, i) => ({
      id: `client-${String(i).padStart(5, '0')}`,
      account_id: ACCOUNT,
      account_kind: 'practice' as const,
      name: i % 10 === 0 ? `Client ${i}, "Holdings"` : `Client ${i}`,
      ledger: rng.pick(ledgers),
    }));
    for (let i = 0; i < clients.length; i += 1000)
      await db
        .insertInto('clients')
        .values(clients.slice(i, i + 1000))
        .execute();
    const users = practiceUsers(rng, userCount, ACCOUNT);
    await db.insertInto('users').values(users).execute();
    // Each user allocated a tenth of the clients and given ledger access to a twentieth.
    for (const user of users) {
      const pick = (share: number) =>
        clients.filter(() => rng.bool(share)).map((c) => ({ account_id: ACCOUNT, user_id: user.id, client_id: c.id }));
      const allocations = pick(0.1);
      const ledgerAccess = pick(0.05);
      if (allocations.length > 0) await db.insertInto('allocations').values(allocations).execute();
      if (ledgerAccess.length > 0) await db.insertInto('ledger_access').values(ledgerAccess).execute();
    }
    const token = await makeToken(db, ['logs']);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const url = `http://127.0.0.1:${port}/v1/accounts/${ACCOUNT}/access-review?action=client.view&format=${format}`;

    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    /** One export, read and discarded; its rows (line ends) and bytes. */
    const once = async () => {
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (response.status !== 200 || response.body === null) throw new Error(`export answered ${response.status}`);
      let lines = 0;
      let bytes = 0;
      for await (const chunk of response.body) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      }
      return { lines, bytes };
    };
    await once(); // warm: the facts cached, the code optimised
    const runs: number[] = [];
    let measured = { lines: 0, bytes: 0 };
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      measured = await once();
      runs.push((performance.now() - start) / 1000);
    }
    clearInterval(sampler);
    const rows = format === 'csv' ? measured.lines - 1 : measured.lines;
    const median = [...runs].sort((a, b) => a - b)[1] as number;
    return {
      ...machine(),
      format,
      users: userCount,
      clients: clientCount,
      rows,
      bytes: measured.bytes,
      runs,
      rowsPerSecond: Math.round(rows / median),
      heapBeforeMb: mb(heapBefore),
      rssBeforeMb: mb(rssBefore),
      peakRssMb: mb(peakRss),
    };
  });
}

export function formatAccessReviewBench(r: AccessReviewBenchResult): string {
  return [
    `access-review: node ${r.node}, ${r.cpu} (${r.cores} cores, load ${r.loadavg.join(' ')}), PostgreSQL, one process serving and reading`,
    `  GET /v1/accounts/{id}/access-review?action=client.view&format=${r.format}: ${r.users} users × ${r.clients} clients = ${r.rows} rows, ${mb(r.bytes)} MB, 3 runs after a warm-up: ${r.runs.map((s) => `${s.toFixed(2)} s`).join(', ')}`,
    `    ${r.rowsPerSecond} rows/s (median run; target ≥ ${TARGET_ROWS_PER_S}); RSS ${r.rssBeforeMb} MB before, peak ${r.peakRssMb} MB during`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      clients: { type: 'string' },
      format: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const result = await runAccessReviewBench({
    ...(values.users === undefined ? {} : { users: Number(values.users) }),
    ...(values.clients === undefined ? {} : { clients: Number(values.clients) }),
    ...(values.format === undefined ? {} : { format: values.format }),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatAccessReviewBench(result));
}
