// End-to-end list query benchmark: POST /v1/resources/query over a practice of 10,000 clients,
// through the whole app (auth, facts from PostgreSQL through the cache, policy, serialisation),
// driven with app.inject on a fresh database that is dropped afterwards. Reports figures only.
//
//   node bench/list-query.ts [--clients N] [--runs N] [--json]   (make bench-list)
//
// The subject is a standard user in ledger_selected mode (the costliest mode: allocation and Xero
// access both count), with a seeded mix of ledgers, allocations and ledger access.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeToken } from '../test/helpers/fixtures.ts';
import { Prng } from '../test/differential/json.ts';
import { machine, onFreshDatabase, timed } from './harness.ts';

export interface ListQueryBenchOptions {
  clients?: number;
  runs?: number;
}

export interface ListQueryBenchResult {
  node: string;
  cpu: string;
  cores: number;
  loadavg: number[];
  engine: 'postgres';
  policyRevision: string;
  clients: number;
  allowed: number;
  denied: number;
  responseBytes: number;
  runs: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

const ACCOUNT = 'bench-practice';
const SUBJECT = 'bench-ledger-selected';

export async function runListQueryBench(options: ListQueryBenchOptions = {}): Promise<ListQueryBenchResult> {
  const count = options.clients ?? 10_000;
  const runs = options.runs ?? 25;
  return onFreshDatabase(async (app, db) => {
    const rng = new Prng(0x1157);
    await db.insertInto('accounts').values({ id: ACCOUNT, name: 'Bench Practice', kind: 'practice' }).execute();
    await db
      .insertInto('users')
      .values({
        id: SUBJECT,
        account_id: ACCOUNT,
        account_kind: 'practice',
        name: 'Bench User',
        role: 'standard',
        client_access_mode: 'ledger_selected',
        xpm_staff_id: null,
      })
      .execute();
    const ledgers = ['xero', 'xero', 'myob', 'quickbooks', 'none'] as const;
    const clients = Array.from({ length: count }, (_, i) => ({
      id: `client-${String(i).padStart(5, '0')}`,
      account_id: ACCOUNT,
      account_kind: 'practice' as const,
      name: `Client ${i}`,
      ledger: rng.pick(ledgers),
    }));
    const link = (share: number) =>
      clients.filter(() => rng.bool(share)).map((c) => ({ account_id: ACCOUNT, user_id: SUBJECT, client_id: c.id }));
    const allocations = link(0.3);
    const ledgerAccess = link(0.5);
    for (let i = 0; i < clients.length; i += 1000)
      await db
        .insertInto('clients')
        .values(clients.slice(i, i + 1000))
        .execute();
    for (let i = 0; i < allocations.length; i += 1000)
      await db
        .insertInto('allocations')
        .values(allocations.slice(i, i + 1000))
        .execute();
    for (let i = 0; i < ledgerAccess.length; i += 1000)
      await db
        .insertInto('ledger_access')
        .values(ledgerAccess.slice(i, i + 1000))
        .execute();
    const token = await makeToken(db, ['decide']);

    const query = () =>
      app.inject({
        method: 'POST',
        url: '/v1/resources/query',
        headers: { authorization: `Bearer ${token}` },
        payload: { subject: { id: SUBJECT }, action: 'client.view', resource_type: 'client', include_denied: true },
      });
    const { body, ...times } = await timed('list query', query, { warm: 5, runs });
    const answer = JSON.parse(body) as { allowed: string[]; denied: unknown[]; policy_revision: string };
    return {
      ...machine(),
      engine: 'postgres' as const,
      policyRevision: answer.policy_revision,
      clients: count,
      allowed: answer.allowed.length,
      denied: answer.denied.length,
      responseBytes: Buffer.byteLength(body),
      ...times,
    };
  });
}

export function formatListQueryBench(r: ListQueryBenchResult): string {
  const f = (n: number) => n.toFixed(1);
  return [
    `list-query: node ${r.node}, ${r.cpu} (${r.cores} cores, load ${r.loadavg.join(' ')}), PostgreSQL, policy revision ${r.policyRevision}`,
    `  POST /v1/resources/query include_denied=true over ${r.clients} clients (${r.allowed} allowed, ${r.denied} denied, ${r.responseBytes} bytes), warm, ${r.runs} runs:`,
    `    median ${f(r.median)} ms, p95 ${f(r.p95)} ms, min ${f(r.min)} ms, max ${f(r.max)} ms`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { clients: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const result = await runListQueryBench({
    ...(values.clients === undefined ? {} : { clients: Number(values.clients) }),
    ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatListQueryBench(result));
}
