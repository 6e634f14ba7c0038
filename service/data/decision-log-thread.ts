// The serving thread's side of the decision log's writer thread (decision-log-worker.ts): a
// LogStore whose writes happen there. The queue, its bound, durable mode's waiting, the spill and
// the retries stay with the writer on the serving thread (domain/decision-log); what moves is the
// work per row: masks applied, made storable, JSON-encoded, and the INSERT with its protocol
// work. A thread that dies fails the requests it held (the writer retries them) and is started
// again by the next one.
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { LogLogger, Refusal } from '../domain/decision-log/rows.ts';
import type { EncodedItem } from '../domain/decision-log/queue.ts';
import type { LogStore } from '../domain/decision-log/writer.ts';
import type { Metrics } from '../domain/metrics.ts';
import type { NewDecisionLogRow } from './schema.ts';

type Keys = Array<{ decision_id: string; decided_at: Date | string }>;

/** What the serving thread asks of the writer thread. */
export type ThreadRequest = { id: number } & (
  | { op: 'encoded'; items: EncodedItem[] }
  | { op: 'rows'; rows: NewDecisionLogRow[] }
  | { op: 'refused'; keys: Keys; refusal: Refusal }
);

/** What the writer thread sends back: a request's outcome, a line for the log, or a count. */
export type ThreadReport =
  | { id: number; error?: { name: string; message: string; code?: string } }
  | { log: 'info' | 'warn' | 'error'; obj: object; msg: string }
  | { count: 'logUnstorable' | 'logIsolationWrites' };

export interface DecisionLogThreadOptions {
  databaseUrl: string;
  metrics: Metrics;
  log: LogLogger;
  /** The thread's heap bounds; WRITER_HEAP_LIMITS unless given. */
  resourceLimits?: ResourceLimits;
}

/**
 * The writer thread's heap, bounded: a young generation of 6 MB and an old one of 48 MB. Unbounded,
 * V8 lets a thread's heap grow as a process's does (its young generation to the process's 32 MiB,
 * WORKER_HEAP_OPTIONS), though the thread holds little beyond the batch it is writing (at most
 * about 4 MB of text, BATCH_BYTES, or one larger entry): about 30 MB less for a tree of two workers
 * (BENCHMARKS.md, "Memory"). An entry too large for the bound (a list over hundreds of thousands of
 * clients) ends the thread out of memory; its requests fail and the writer retries them on a thread
 * started without the bound.
 */
export const WRITER_HEAP_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 48 };

/** The writer thread's connections name themselves so (an operator tells them apart in pg_stat_activity). */
export const WRITER_APPLICATION_NAME = 'clearance-decision-log-writer';

/** How long close() lets the thread end its pool before it is stopped. */
const CLOSE_WAIT_MS = 2000;

export class DecisionLogThread implements Required<LogStore> {
  readonly #options: DecisionLogThreadOptions;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  /** The next thread's heap bounds: none once a thread has run out of them. */
  #limits: ResourceLimits | undefined;

  constructor(options: DecisionLogThreadOptions) {
    this.#options = options;
    this.#limits = options.resourceLimits ?? WRITER_HEAP_LIMITS;
  }

  /** Starts the thread ahead of the first write (its modules and pool take a moment). */
  start(): void {
    this.#started();
  }

  write(rows: NewDecisionLogRow[]): Promise<void> {
    return this.#request({ op: 'rows', rows });
  }

  writeEncoded(items: EncodedItem[]): Promise<void> {
    return this.#request({ op: 'encoded', items });
  }

  markRefused(keys: Keys, refusal: Refusal): Promise<void> {
    return this.#request({ op: 'refused', keys, refusal });
  }

  /** Ends the thread: its pool is closed, a write still under way given up (the caller spilled it). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), CLOSE_WAIT_MS);
    });
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }

  #request(body: DistributiveOmit<ThreadRequest, 'id'>): Promise<void> {
    const worker = this.#started();
    const id = this.#nextId++;
    // A request under way holds the process open (a stop's drain waits on it); an idle thread does not.
    if (this.#waiting.size === 0) worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ ...body, id });
    });
  }

  #started(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(new URL('./decision-log-worker.ts', import.meta.url), {
      name: 'decision-log-writer',
      workerData: { databaseUrl: this.#options.databaseUrl },
      ...(this.#limits === undefined ? {} : { resourceLimits: this.#limits }),
    });
    worker.on('message', (report: ThreadReport) => this.#report(report));
    worker.on('error', (error) => {
      if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY' && this.#limits !== undefined) {
        this.#limits = undefined;
        this.#options.log.warn(
          { err: error },
          'decision log writer thread ran out of its bounded heap; its writes are retried on a thread without the bound',
        );
        return;
      }
      this.#options.log.error({ err: error }, 'decision log writer thread failed');
    });
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      const lost = Object.assign(new Error('the decision log writer thread ended'), { code: 'ELOGTHREAD' });
      for (const { reject } of this.#waiting.values()) reject(lost);
      this.#waiting.clear();
    });
    // Idle, it must not hold the process open: the log's own stop decides when writing ends (a
    // request under way refs it, #request). After the 'message' listener: adding one refs the
    // thread's port again, and an idle thread started after close would keep the process alive.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #report(report: ThreadReport): void {
    if ('id' in report) {
      const waiting = this.#waiting.get(report.id);
      this.#waiting.delete(report.id);
      if (this.#waiting.size === 0) this.#worker?.unref();
      if (report.error === undefined) waiting?.resolve();
      else waiting?.reject(Object.assign(new Error(report.error.message), report.error));
    } else if ('log' in report) {
      this.#options.log[report.log](report.obj, report.msg);
    } else {
      this.#options.metrics[report.count].inc();
    }
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
