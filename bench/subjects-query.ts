// End-to-end reverse query benchmark ("who has access"): POST /v1/subjects/query for one client
// of a practice of 1,000 users, through the whole app (auth, facts from PostgreSQL through the
// cache, policy, serialisation), driven with app.inject on a fresh database that is dropped
// afterwards. Reports figures beside the target (p50 ≤ 20 ms warm, issue 18); judges nothing.
//
//   node bench/subjects-query.ts [--users N] [--runs N] [--json]   (make bench-subjects)
//
// The users have every role of a practice, every client access mode and a seeded share of
// allocations and ledger access to the client, so the list has many distinct rows.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Prng } from '../test/differential/json.ts';
import { makeToken } from '../test/helpers/fixtures.ts';
import { machine, onFreshDatabase, practiceUsers, timed } from './harness.ts';

export const TARGET_SUBJECTS_P50_MS = 20;

const ACCOUNT = 'bench-practice';
const CLIENTS = ['client-xero', 'client-myob'];

export interface SubjectsQueryBenchResult {
  node: string;
  cpu: string;
  cores: number;
  loadavg: number[];
  policyRevision: string;
  users: number;
  allowed: number;
  denied: number;
  responseBytes: number;
  runs: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

export async function runSubjectsQueryBench(options: { users?: number; runs?: number } = {}) {
  const count = options.users ?? 1000;
  const runs = options.runs ?? 50;
  return onFreshDatabase(async (app, db): Promise<SubjectsQueryBenchResult> => {
    const rng = new Prng(0x5b1e);
    await db.insertInto('accounts').values({ id: ACCOUNT, name: 'Bench Practice', kind: 'practice' }).execute();
    await db
      .insertInto('clients')
      .values(
        CLIENTS.map((id, i) => ({
          id,
          account_id: ACCOUNT,
          account_kind: 'practice' as const,
          name: id,
          ledger: i === 0 ? ('xero' as const) : ('myob' as const),
        })),
      )
      .execute();
    const users = practiceUsers(rng, count, ACCOUNT, 0.05);
    for (let i = 0; i < users.length; i += 500)
      await db
        .insertInto('users')
        .values(users.slice(i, i + 500))
        .execute();
    const pairs = (share: number) =>
      users.flatMap((u) =>
        CLIENTS.filter(() => rng.bool(share)).map((client_id) => ({ account_id: ACCOUNT, user_id: u.id, client_id })),
      );
    await db.insertInto('allocations').values(pairs(0.4)).execute();
    await db.insertInto('ledger_access').values(pairs(0.3)).execute();
    const token = await makeToken(db, ['decide']);

    const query = () =>
      app.inject({
        method: 'POST',
        url: '/v1/subjects/query',
        headers: { authorization: `Bearer ${token}` },
        payload: { action: 'client.view', resource: { type: 'client', id: CLIENTS[0] }, include_denied: true },
      });
    const { body, ...times } = await timed('reverse query', query, { warm: 10, runs });
    const answer = JSON.parse(body) as { allowed: string[]; denied: unknown[]; policy_revision: string };
    return {
      ...machine(),
      policyRevision: answer.policy_revision,
      users: count,
      allowed: answer.allowed.length,
      denied: answer.denied.length,
      responseBytes: Buffer.byteLength(body),
      ...times,
    };
  });
}

export function formatSubjectsQueryBench(r: SubjectsQueryBenchResult): string {
  const f = (n: number) => n.toFixed(1);
  return [
    `subjects-query: node ${r.node}, ${r.cpu} (${r.cores} cores, load ${r.loadavg.join(' ')}), PostgreSQL, policy revision ${r.policyRevision}`,
    `  POST /v1/subjects/query include_denied=true for one client over ${r.users} users (${r.allowed} allowed, ${r.denied} denied, ${r.responseBytes} bytes), warm, ${r.runs} runs:`,
    `    median ${f(r.median)} ms, p95 ${f(r.p95)} ms, min ${f(r.min)} ms, max ${f(r.max)} ms (target: median ≤ ${TARGET_SUBJECTS_P50_MS} ms)`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { users: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const result = await runSubjectsQueryBench({
    ...(values.users === undefined ? {} : { users: Number(values.users) }),
    ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatSubjectsQueryBench(result));
}
