// The load generator: POSTs a rotating list of bodies over keep-alive connections (undici), either
// closed-loop at a fixed concurrency or open-loop at a fixed arrival rate. Latency is measured per
// request with a microsecond clock and percentiles are exact (sorted samples), so sub-millisecond
// differences show; at a fixed rate it runs from each request's scheduled time, so a stalled
// server is not hidden by requests that were never sent (coordinated omission).
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export interface LoadTarget {
  origin: string;
  path: string;
  headers: Record<string, string>;
  bodies: string[];
}

export interface LoadOptions {
  connections: number;
  durationS: number;
  warmupS: number;
  /** At least this many requests in the warm-up (each worker's cache must see the whole mix). */
  warmupRequests?: number;
  /** Requests per second, open loop; absent: closed loop at `connections` in flight. */
  rate?: number;
}

export interface LoadResult {
  mode: 'concurrency' | 'rate';
  connections: number;
  rate: number | null;
  durationS: number;
  requests: number;
  rps: number;
  non2xx: number;
  errors: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** CPU seconds the load generator itself used per second (it shares the machine). */
  generatorCpu: number;
}

class Samples {
  #values = new Float64Array(1 << 16);
  #count = 0;

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  summary(): LoadResult['latencyMs'] {
    const sorted = this.#values.slice(0, this.#count).sort();
    const at = (q: number) =>
      sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
    let sum = 0;
    for (const v of sorted) sum += v;
    const round = (v: number) => Math.round(v * 1000) / 1000;
    return {
      p50: round(at(0.5)),
      p90: round(at(0.9)),
      p99: round(at(0.99)),
      p999: round(at(0.999)),
      max: round(sorted[sorted.length - 1] ?? 0),
      mean: round(sorted.length === 0 ? 0 : sum / sorted.length),
    };
  }
}

/** Runs the load; the warm-up is sent the same way and not counted. */
export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  let next = 0;
  const headers = { 'content-type': 'application/json', ...target.headers };
  const send = async (samples: Samples | null, counts: { non2xx: number; errors: number }, startedAt: number) => {
    const body = target.bodies[next++ % target.bodies.length] as string;
    try {
      const response = await pool.request({ path: target.path, method: 'POST', headers, body });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode > 299) counts.non2xx += 1;
      else samples?.add(performance.now() - startedAt);
    } catch {
      counts.errors += 1;
    }
  };

  try {
    const discard = { non2xx: 0, errors: 0 };
    await closedLoop(
      options.connections,
      options.warmupS,
      () => send(null, discard, performance.now()),
      options.warmupRequests,
    );
    const samples = new Samples();
    const counts = { non2xx: 0, errors: 0 };
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    if (options.rate === undefined) {
      await closedLoop(options.connections, options.durationS, () => send(samples, counts, performance.now()));
    } else {
      await openLoop(options.rate, options.durationS, (scheduledAt) => send(samples, counts, scheduledAt));
    }
    const elapsedS = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      mode: options.rate === undefined ? 'concurrency' : 'rate',
      connections: options.connections,
      rate: options.rate ?? null,
      durationS: Math.round(elapsedS * 100) / 100,
      requests: samples.count,
      rps: Math.round(samples.count / elapsedS),
      non2xx: counts.non2xx,
      errors: counts.errors,
      latencyMs: samples.summary(),
      generatorCpu: Math.round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100) / 100,
    };
  } finally {
    await pool.close();
  }
}

/** Keeps width requests in flight for the given seconds, and until atLeast were sent. */
async function closedLoop(width: number, seconds: number, request: () => Promise<void>, atLeast = 0): Promise<void> {
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (performance.now() < end || sent < atLeast) {
        sent += 1;
        await request();
      }
    }),
  );
}

/** Starts requests on schedule whatever the answers do; waits up to 10 s for the last ones. */
async function openLoop(rate: number, seconds: number, request: (scheduledAt: number) => Promise<void>): Promise<void> {
  const interval = 1000 / rate;
  const start = performance.now();
  const end = start + seconds * 1000;
  const inFlight = new Set<Promise<void>>();
  let scheduled = start;
  while (scheduled < end) {
    const now = performance.now();
    while (scheduled <= now && scheduled < end) {
      const at = scheduled;
      const pending = request(at).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
      scheduled += interval;
    }
    await sleep(1);
  }
  await Promise.race([Promise.all(inFlight), sleep(10_000)]);
}
