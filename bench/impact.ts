// Policy revisions benchmark: impact analysis over 100,000 logged decisions (decisions replayed per
// second, and the process's peak resident memory while it runs), and /v1/decide throughput with a
// shadow revision set against none. The whole app on a fresh PostgreSQL database that is dropped
// afterwards, driven with app.inject. Reports figures beside the target (≥ 20,000 replayed/s,
// issue 16); judges nothing.
//
//   node bench/impact.ts [--decisions N] [--seconds S] [--json]   (make bench-impact)
//
// The log is filled through the batch endpoint (real inputs, facts included); the candidate is the
// local build with client.view renamed, so about a third of the replayed decisions change.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { bundleId, DATA, MANIFEST, readBundle, readManifest, writeBundle } from '../service/policy/bundle.ts';
import { Prng } from '../test/differential/json.ts';
import { makeToken } from '../test/helpers/fixtures.ts';
import { machine, onFreshDatabase, practiceUsers } from './harness.ts';

export const TARGET_REPLAYED_PER_SECOND = 20_000;

const ACCOUNT = 'bench-practice';
const ACTIONS = ['client.view', 'client.edit', 'time.push'];

/** The local build with client.view renamed: every client.view decision becomes unknown_action. */
function candidateBundle(): Buffer {
  const files = new Map(readBundle(readFileSync('.build/policy/bundle.tar.gz')));
  files.set(
    DATA,
    Buffer.from((files.get(DATA) as Buffer).toString('utf8').replaceAll('"client.view"', '"client.see"')),
  );
  const { revision: _old, ...manifest } = readManifest(files);
  files.set(MANIFEST, Buffer.from(JSON.stringify(manifest)));
  files.set(MANIFEST, Buffer.from(JSON.stringify({ revision: bundleId(files), ...manifest })));
  return writeBundle(files);
}

/** Decisions per second over seconds, with concurrency requests in flight. */
async function throughput(app: FastifyInstance, token: string, payloads: object[], seconds: number, concurrency = 16) {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      for (let i = lane; performance.now() < until; i += concurrency) {
        const answer = await app.inject({
          method: 'POST',
          url: '/v1/decide',
          headers: { authorization: `Bearer ${token}` },
          payload: payloads[i % payloads.length] as object,
        });
        if (answer.statusCode !== 200) throw new Error(`decide answered ${answer.statusCode}: ${answer.body}`);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

export async function runImpactBench(options: { decisions?: number; seconds?: number } = {}) {
  const total = options.decisions ?? 100_000;
  const seconds = options.seconds ?? 5;
  return onFreshDatabase(async (app, db) => {
    const rng = new Prng(0x1a9c7);
    await db.insertInto('accounts').values({ id: ACCOUNT, name: 'Bench Practice', kind: 'practice' }).execute();
    const clients = Array.from({ length: 200 }, (_, i) => ({
      id: `client-${i}`,
      account_id: ACCOUNT,
      account_kind: 'practice' as const,
      name: `Client ${i}`,
      ledger: rng.pick(['xero', 'myob', 'none'] as const),
    }));
    await db.insertInto('clients').values(clients).execute();
    const users = practiceUsers(rng, 200, ACCOUNT, 0.05);
    await db.insertInto('users').values(users).execute();
    const pairs = (share: number) =>
      users.flatMap((u) =>
        clients.filter(() => rng.bool(share)).map((c) => ({ account_id: ACCOUNT, user_id: u.id, client_id: c.id })),
      );
    await db.insertInto('allocations').values(pairs(0.3)).execute();
    await db.insertInto('ledger_access').values(pairs(0.2)).execute();
    const token = await makeToken(db, ['decide', 'policy', 'logs']);
    const request = () => ({
      subject: { id: rng.pick(users).id },
      action: rng.pick(ACTIONS),
      resource: { type: 'client', id: rng.pick(clients).id },
    });

    const filling = performance.now();
    for (let made = 0; made < total; made += 1000) {
      const requests = Array.from({ length: Math.min(1000, total - made) }, request);
      const answer = await app.inject({
        method: 'POST',
        url: '/v1/decide/batch',
        headers: { authorization: `Bearer ${token}` },
        payload: { requests },
      });
      if (answer.statusCode !== 200)
        throw new Error(`batch answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
    }
    while (app.decisionLog.depth > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const fillSeconds = (performance.now() - filling) / 1000;

    const uploaded = await app.inject({
      method: 'POST',
      url: '/v1/policies',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/gzip' },
      payload: candidateBundle(),
    });
    if (uploaded.statusCode !== 201) throw new Error(`upload answered ${uploaded.statusCode}: ${uploaded.body}`);
    const candidate = (uploaded.json() as { revision: string }).revision;

    const impact = async () => {
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      const started = performance.now();
      const answer = await app.inject({
        method: 'POST',
        url: `/v1/policies/${candidate}/impact`,
        headers: { authorization: `Bearer ${token}` },
        payload: { limit: total },
      });
      const elapsed = (performance.now() - started) / 1000;
      clearInterval(sampler);
      if (answer.statusCode !== 200)
        throw new Error(`impact answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
      const report = answer.json() as { replayed: number; changed: number; unchanged: number };
      return {
        ...report,
        seconds: elapsed,
        perSecond: report.replayed / elapsed,
        rssBeforeMb: rssBefore / 2 ** 20,
        rssPeakMb: peak / 2 ** 20,
      };
    };
    await impact(); // warm: the candidate loaded, the code optimised
    const runs = [await impact(), await impact(), await impact()];
    const best = runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));

    // Shadow on and off, alternated, so drift of the machine falls on both.
    const payloads = Array.from({ length: 5000 }, request);
    await throughput(app, token, payloads, 1);
    const none: number[] = [];
    const shadowed: number[] = [];
    const setShadow = async (on: boolean) => {
      const answer = on
        ? await app.inject({
            method: 'PUT',
            url: '/v1/policies/shadow',
            headers: { authorization: `Bearer ${token}` },
            payload: { revision: candidate },
          })
        : await app.inject({
            method: 'DELETE',
            url: '/v1/policies/shadow',
            headers: { authorization: `Bearer ${token}` },
          });
      if (answer.statusCode >= 300) throw new Error(`shadow answered ${answer.statusCode}: ${answer.body}`);
    };
    for (let round = 0; round < 2; round++) {
      await setShadow(false);
      none.push(await throughput(app, token, payloads, seconds));
      await setShadow(true);
      shadowed.push(await throughput(app, token, payloads, seconds));
    }
    await setShadow(false);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    return {
      ...machine(),
      decisions: total,
      fillSeconds,
      runs: runs.map((r) => ({ seconds: r.seconds, perSecond: r.perSecond, rssPeakMb: r.rssPeakMb })),
      best,
      decide: { none, shadowed, noneMedian: median(none), shadowedMedian: median(shadowed), seconds },
    };
  });
}

type Result = Awaited<ReturnType<typeof runImpactBench>>;

export function formatImpactBench(r: Result): string {
  const f = (n: number) => Math.round(n).toLocaleString('en');
  return [
    `impact: node ${r.node}, ${r.cpu} (${r.cores} cores, load ${r.loadavg.join(' ')}), PostgreSQL`,
    `  log filled with ${f(r.decisions)} decisions through /v1/decide/batch in ${r.fillSeconds.toFixed(1)} s`,
    `  POST /v1/policies/{rev}/impact over ${f(r.best.replayed)} decisions (${f(r.best.changed)} changed, ${f(r.best.unchanged)} unchanged):`,
    ...r.runs.map(
      (run) =>
        `    ${run.seconds.toFixed(2)} s, ${f(run.perSecond)} replayed/s, peak RSS ${run.rssPeakMb.toFixed(0)} MB`,
    ),
    `    best ${f(r.best.perSecond)} replayed/s (target ≥ ${f(TARGET_REPLAYED_PER_SECOND)}), RSS ${r.best.rssBeforeMb.toFixed(0)} MB before, ${r.best.rssPeakMb.toFixed(0)} MB peak`,
    `  /v1/decide, 16 in flight, app.inject, ${r.decide.seconds} s per run, alternated:`,
    `    no shadow ${r.decide.none.map(f).join(', ')} decisions/s; shadow set ${r.decide.shadowed.map(f).join(', ')} decisions/s`,
    `    medians: ${f(r.decide.noneMedian)} vs ${f(r.decide.shadowedMedian)} (${((r.decide.shadowedMedian / r.decide.noneMedian - 1) * 100).toFixed(1)}%)`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { decisions: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const result = await runImpactBench({
    ...(values.decisions === undefined ? {} : { decisions: Number(values.decisions) }),
    ...(values.seconds === undefined ? {} : { seconds: Number(values.seconds) }),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatImpactBench(result));
}
