// The decision log's queue: entries waiting for the writer. It is bounded (a list query's entry
// weighs by its clients): when it is full, answers wait for room (backpressure) rather than entries
// being dropped. In durable mode an answer waits until its entry is committed; one refused because
// that took too long is logged as refused, and corrected where it may already be in as answered.
import type { NewDecisionLogRow } from '../../data/schema.ts';
import { AppError } from '../../errors.ts';
import type { Metrics } from '../metrics.ts';
import { NOT_LOGGED_IN_TIME, refusedRow, type DecisionLogEntry, type EncodedEntry, type Refusal } from './rows.ts';

export interface Pending {
  entry: DecisionLogEntry;
  row: NewDecisionLogRow | null;
  /** Its share of the queue bound. */
  weight: number;
  /** Durable mode: resolves the answer waiting for this entry (the last of its request). */
  committed?: () => void;
  /** Durable mode: the answer was refused because this entry was not committed in time. */
  refused?: Refusal;
  /**
   * Its row has left the queue as it was at least once (a write, perhaps committed even if it
   * failed, or a spill file): a refusal from then on is a correction, not just a different row.
   */
  sent?: boolean;
  /** What encodedOf made of the entry (null: its row is built here), made once. */
  encoded?: EncodedEntry | null;
}

export interface EntryQueueOptions {
  /** Entries held at most before answers wait for room. */
  queueMax: number;
  /** Durable mode: how long an answer waits for its commit before it is refused instead. */
  durableTimeoutMs: number;
  /** The entry's row (masked, storable); never throws. */
  toRow(entry: DecisionLogEntry): NewDecisionLogRow;
  /** The entry encoded for a writer thread, or null when its row is to be built here (encodedEntry). */
  toEncoded?(entry: DecisionLogEntry): EncodedEntry | null;
  metrics: Metrics;
  /** Something arrived for the writer: entries, or corrections. */
  onWork(): void;
}

/** What a writer thread is given of an entry: encoded, or its row when that was built here. */
export type EncodedItem = { entry: EncodedEntry; refused?: Refusal } | { row: NewDecisionLogRow };

/** A single decision's result text, roughly (the batch bound counts input and result). */
const RESULT_TEXT_GUESS = 200;

/** A list query's entry holds a row per client: it weighs one per ten of them. */
function weight(entry: DecisionLogEntry): number {
  const clients = (entry.input as { clients?: unknown } | null)?.clients;
  return Array.isArray(clients) ? 1 + Math.ceil(clients.length / 10) : 1;
}

const durableTimeout = () =>
  new AppError(
    503,
    NOT_LOGGED_IN_TIME,
    'the decision could not be logged in time (durable decision log); not answered',
  );

export class EntryQueue {
  readonly #options: EntryQueueOptions;
  #pending: Pending[] = [];
  #weight = 0;
  #roomWaiters: Array<() => void> = [];
  /**
   * Once stopping begins, answers do not wait for room: they are let in past the bound. No request
   * reaches a handler once the server is closing, so what is still to come is bounded by the
   * requests already in flight (whose entries are in memory anyway); waiting would hold the stop.
   */
  #pastBound = false;
  /** Entries that may be in the log as answered whose answer was then refused (durable timeout), to be corrected. */
  #corrections: Pending[] = [];
  /** The database is failing: what is queued is held on its account (a gauge). */
  #failing = false;

  constructor(options: EntryQueueOptions) {
    this.#options = options;
  }

  /** Entries not yet written. */
  get depth(): number {
    return this.#pending.length;
  }

  /** Nothing is queued nor waiting to be corrected. */
  get empty(): boolean {
    return this.#pending.length === 0 && this.#corrections.length === 0;
  }

  /**
   * Queues a request's entries, waiting for room when the queue is full (unless stopping began).
   * Durable: resolves once they are committed; rejects with 503 decision_log_unavailable when that
   * takes too long, so an unlogged answer is never sent (and the entries say they were refused).
   */
  async add(entries: DecisionLogEntry[], durable: boolean): Promise<void> {
    const pending = entries.map((entry): Pending => ({ entry, row: null, weight: weight(entry) }));
    const needed = pending.reduce((sum, p) => sum + p.weight, 0);
    while (!this.#pastBound && this.#weight > 0 && this.#weight + needed > this.#options.queueMax) {
      this.#options.metrics.logBackpressureWaits.inc();
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    const committed = durable
      ? new Promise<void>((resolve) => {
          (pending[pending.length - 1] as Pending).committed = resolve;
        })
      : null;
    this.#pending.push(...pending);
    this.#weight += needed;
    this.#gauges();
    this.#options.onWork();
    if (committed !== null && !(await this.#committedInTime(committed))) {
      const error = durableTimeout();
      for (const p of pending) this.#refuse(p, error);
      throw error;
    }
  }

  async #committedInTime(committed: Promise<void>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#options.durableTimeoutMs);
    });
    try {
      return await Promise.race([committed.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The entry records that its answer was refused: its row is written refused from now on, and
   * if an earlier one may be in the log as answered (written, being written, or spilled), that is
   * corrected too — by the writer after any write under way, or through the spill at a stop.
   * An entry that is itself a refusal (context_unavailable, policy_error) already says so.
   */
  #refuse(p: Pending, error: AppError): void {
    p.refused = { code: error.code, message: error.message };
    if (p.sent && p.entry.error === null) {
      this.#corrections.push(p);
      this.#options.onWork();
    }
  }

  /** From now on answers do not wait for room (the stop has begun). */
  openBound(): void {
    this.#pastBound = true;
    this.#wakeRoomWaiters();
  }

  /** The oldest entries, up to max of them and maxBytes of input and result text (one always), marked sent. */
  oldest(max: number, maxBytes: number): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    for (const p of this.#pending) {
      if (batch.length === max) break;
      const size = this.#sizeOf(p);
      if (batch.length > 0 && bytes + size > maxBytes) break;
      batch.push(p);
      bytes += size;
    }
    for (const p of batch) p.sent = true;
    return batch;
  }

  /** The batch is committed: it leaves the queue, its answers are released and waiters let in. */
  written(batch: Pending[]): void {
    // The queue may have been spilled meanwhile (a stop past its deadline): then nothing is left to take.
    if (this.#pending[0] === batch[0]) {
      this.#pending.splice(0, batch.length);
      this.#weight -= batch.reduce((sum, p) => sum + p.weight, 0);
    }
    for (const p of batch) p.committed?.();
    this.#gauges();
    this.#wakeRoomWaiters();
  }

  /** The corrections due, all with the same refusal; pass them to corrected() once applied. */
  get corrections(): readonly Pending[] {
    return this.#corrections;
  }

  corrected(count: number): void {
    this.#corrections = this.#corrections.slice(count);
  }

  /** Everything queued or waiting to be corrected (what a spill file takes). */
  all(): Pending[] {
    return [...new Set([...this.#pending, ...this.#corrections])];
  }

  /** What all() gave is in a spill file: it leaves the queue. */
  spilled(spilled: Pending[]): void {
    for (const p of spilled) p.sent = true;
    this.#pending = [];
    this.#weight = 0;
    this.#corrections = [];
    this.#gauges();
  }

  /** Input and result text of an entry: its row's, or the input's JSON text while no row is built. */
  #sizeOf(p: Pending): number {
    const { inputJson } = p.entry;
    if (p.row === null && inputJson !== undefined && this.#options.toEncoded !== undefined)
      return inputJson.length + RESULT_TEXT_GUESS;
    const row = this.rowOf(p);
    return String(row.input ?? '').length + String(row.result).length;
  }

  /**
   * The entry as a writer thread takes it: encoded (its row built there) where it can be, else
   * its row built here; with the refusal of its answer, if it was refused.
   */
  encodedOf(p: Pending): EncodedItem {
    p.encoded ??= p.row === null ? (this.#options.toEncoded?.(p.entry) ?? null) : null;
    const { encoded } = p;
    if (encoded === null) return { row: this.rowOf(p) };
    return p.refused === undefined ? { entry: encoded } : { entry: encoded, refused: p.refused };
  }

  /** The entry's row, built once; refused if its answer was. */
  rowOf(p: Pending): NewDecisionLogRow {
    p.row ??= this.#options.toRow(p.entry);
    if (p.refused !== undefined && p.row.error === null) p.row = refusedRow(p.row, p.refused);
    return p.row;
  }

  /** Whether writes are failing (then what is queued counts as held on the database's account). */
  set failing(failing: boolean) {
    this.#failing = failing;
    this.#gauges();
  }

  /** Queued entries; of those, the ones held while the database fails (from a failed write until one succeeds). */
  #gauges(): void {
    const { metrics } = this.#options;
    metrics.logQueueDepth.set(this.#pending.length);
    metrics.logWaitingOnDatabase.set(this.#failing ? this.#pending.length : 0);
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}
