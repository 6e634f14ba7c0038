// The decision log's writer: one loop, off the request path, that writes the queue to the database
// in batches (entries arriving during a write go in the next one: group commit), applies the
// corrections of answers refused after their entry went in, and retries a failing database with
// backoff until the stop's deadline. A batch the database refuses is halved down to the refused row.
import type { NewDecisionLogRow } from '../../data/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { EncodedItem, EntryQueue, Pending } from './queue.ts';
import { withoutInput, type LogLogger, type Refusal } from './rows.ts';

/** Where rows go, and how rows already written are marked refused. */
export interface LogStore {
  write(rows: NewDecisionLogRow[]): Promise<void>;
  /**
   * Where given, the writer hands it the queue's batches encoded (EntryQueue.encodedOf), for
   * another thread to build their rows and write them as storeRows does; else it builds the rows
   * and writes them here.
   */
  writeEncoded?(items: EncodedItem[]): Promise<void>;
  /** Marks entries already written as refused (a durable answer that timed out while its write was under way). */
  markRefused(keys: Array<{ decision_id: string; decided_at: Date | string }>, refusal: Refusal): Promise<void>;
}

interface Reporting {
  metrics: Metrics;
  log: LogLogger;
}

/** What storeRows counts and says: the service's metrics and log, or on a writer thread their relay. */
export interface RowReporting {
  metrics: { logUnstorable: { inc(): void }; logIsolationWrites: { inc(): void } };
  log: LogLogger;
}

/**
 * Input and result text per write at most (one entry always goes): a batch of list queries, a
 * megabyte each, must not stall the process.
 */
const BATCH_BYTES = 4 * 1024 * 1024;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

/**
 * SQLSTATE classes that mean "this row cannot be stored as it is" (data exceptions, constraints,
 * program limits), not "the database is away" or "the schema is wrong" (those are retried).
 */
const isRowProblem = (error: unknown) => /^(22|23|54)/.test(String((error as { code?: unknown })?.code ?? ''));

/**
 * Writes rows in one go. Rows are built storable (storable.ts), so the database refusing one is
 * rare; when it does, it must not cost the others their throughput: the rows are halved and each
 * half written, down to the refused row, which is kept without its input rather than lost — about
 * 2·log2(n) writes for one bad row in n, not n (rewriting is harmless: rows already written are
 * skipped). The writer and the spill replay both write so.
 */
export async function storeRows(
  store: Pick<LogStore, 'write'>,
  rows: NewDecisionLogRow[],
  { metrics, log }: RowReporting,
): Promise<void> {
  try {
    await store.write(rows);
  } catch (error) {
    if (!isRowProblem(error)) throw error;
    const [row] = rows;
    if (rows.length === 1 && row !== undefined) {
      log.error(
        { err: error, decisionId: row.decision_id },
        'decision log entry refused by the database; keeping it without its input',
      );
      metrics.logUnstorable.inc();
      try {
        await store.write([withoutInput(row, error as Error)]);
      } catch (again) {
        if (!isRowProblem(again)) throw again;
        // Retrying would hold up every entry behind it for ever: this one is given up, said so here.
        const kept = { ...row, input: null };
        log.error({ err: again, row: kept }, 'decision log entry refused even without its input; not stored');
      }
      return;
    }
    const half = Math.ceil(rows.length / 2);
    for (const part of [rows.slice(0, half), rows.slice(half)]) {
      metrics.logIsolationWrites.inc();
      await storeRows(store, part, { metrics, log });
    }
  }
}

export class LogWriter {
  readonly #queue: EntryQueue;
  readonly #store: LogStore;
  readonly #reporting: Reporting;
  readonly #batchMax: number;
  /** Wakes the idle writer: new entries, or the stop. */
  #wake: (() => void) | null = null;
  /** Cuts a retry pause short: the stop only (new entries must not hammer a failing database). */
  #interrupt: (() => void) | null = null;
  #running: Promise<void> | null = null;
  /** No more entries come: the loop ends once it has nothing left, or at the deadline. */
  #finishing = false;
  #deadline = Number.POSITIVE_INFINITY;
  #failures = 0;

  /** How long a batch short of batchMax is left to gather before it is written (0: at once). */
  readonly #lingerMs: number;

  constructor(queue: EntryQueue, store: LogStore, reporting: Reporting, batchMax: number, lingerMs = 0) {
    this.#queue = queue;
    this.#store = store;
    this.#reporting = reporting;
    this.#batchMax = batchMax;
    this.#lingerMs = lingerMs;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** There is work: wakes the loop if it is idle. */
  signal(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The stop's deadline: retry pauses end by it, and finish() waits until it at most. */
  stopBy(deadline: number): void {
    this.#deadline = deadline;
  }

  /**
   * No more entries come: writes what is left until the deadline (a retry pause is cut short for
   * one more try), then resolves — also while a write still hangs; whatever is left is the caller's.
   */
  async finish(): Promise<void> {
    this.#finishing = true;
    this.signal();
    this.#interrupt?.();
    if (this.#running === null) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, this.#deadline - Date.now()) + 50);
    });
    await Promise.race([this.#running, late]);
    clearTimeout(timer);
  }

  /** Sleeps until signalled. */
  #idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Sleeps ms, or less when the stop comes. */
  #backOff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#interrupt = done;
    }).finally(() => {
      this.#interrupt = null;
    });
  }

  async #run(): Promise<void> {
    const queue = this.#queue;
    for (;;) {
      if (queue.empty) {
        if (this.#finishing) return;
        await this.#idle();
        continue;
      }
      if (this.#finishing && Date.now() >= this.#deadline) return;
      // Each write costs the database about as much again as its rows (the statement, the commit,
      // the tallies' statement triggers): a batch short of full gathers a moment first. Not while
      // stopping (the stop cuts a pause short too), nor while the database fails (the retry waits).
      if (this.#lingerMs > 0 && !this.#finishing && this.#failures === 0 && queue.depth < this.#batchMax)
        await this.#backOff(this.#lingerMs);
      const started = performance.now();
      let batch: Pending[] = [];
      try {
        await this.#applyCorrections();
        if (queue.depth === 0) continue;
        batch = queue.oldest(this.#batchMax, BATCH_BYTES);
        if (this.#store.writeEncoded !== undefined)
          await this.#store.writeEncoded(batch.map((p) => queue.encodedOf(p)));
        else
          await storeRows(
            this.#store,
            batch.map((p) => queue.rowOf(p)),
            this.#reporting,
          );
      } catch (error) {
        this.#failed(error);
        const delay = Math.min(FIRST_RETRY_MS * 2 ** Math.min(this.#failures - 1, 10), MAX_RETRY_MS);
        // Finishing: one more try before the deadline. Past it (spilled, in-flight requests still
        // finishing), the usual pause.
        const left = this.#deadline - Date.now();
        await this.#backOff(left > 0 ? Math.min(delay, left) : delay);
        continue;
      }
      this.#written(batch, performance.now() - started);
    }
  }

  /** Corrects entries that may have been written as answered whose answer was refused meanwhile. */
  async #applyCorrections(): Promise<void> {
    const due = this.#queue.corrections;
    if (due.length === 0) return;
    // Counted now: corrections arriving during the update are the next one's.
    const count = due.length;
    const refusal = due[0]?.refused as Refusal;
    await this.#store.markRefused(
      due.map((p) => ({ decision_id: p.entry.decisionId, decided_at: p.entry.decidedAt })),
      refusal,
    );
    this.#queue.corrected(count);
  }

  #failed(error: unknown): void {
    this.#failures += 1;
    const { metrics, log } = this.#reporting;
    metrics.logWriteErrors.inc();
    this.#queue.failing = true;
    if (this.#failures === 1 || this.#failures % 20 === 0) {
      const queued = this.#queue.depth;
      log.warn(
        { err: error, attempt: this.#failures, queued },
        `decision log: cannot write (${(error as Error).message}); ${queued} entries held, retrying`,
      );
    }
  }

  #written(batch: Pending[], ms: number): void {
    const { metrics, log } = this.#reporting;
    if (this.#failures > 0) {
      const queued = this.#queue.depth - batch.length;
      log.info({ attempts: this.#failures, queued }, 'decision log: writing again after a failure');
      this.#failures = 0;
      this.#queue.failing = false;
    }
    this.#queue.written(batch);
    metrics.logWritten.inc(batch.length);
    metrics.logWriteSeconds.observe(ms / 1000);
  }
}
