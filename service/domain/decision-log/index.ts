// The decision log: every answer is handed here (record) and written to the database in batches by
// one writer, off the request path (queue.ts, writer.ts, rows.ts). While the database is down
// entries stay queued and are retried. A stop has one deadline (stop): the queue is drained until
// it, and what the database still cannot take then (a failing or a hanging write alike) is spilled
// to a file that is written on a later start — as is what is left when the process exits any
// other way (spillNow).
import { claimSpillFiles, writeSpillFile } from '../../data/decision-log-spill.ts';
import type { NewDecisionLogRow } from '../../data/schema.ts';
import type { Metrics } from '../metrics.ts';
import { EntryQueue } from './queue.ts';
import {
  encodedEntry,
  entryRow,
  refusalOf,
  type DecisionLogEntry,
  type DecisionLogMode,
  type LogLogger,
  type MaskSource,
} from './rows.ts';
import { LogWriter, storeRows, type LogStore } from './writer.ts';

export type { DecisionLogEntry, DecisionLogMode } from './rows.ts';

export interface DecisionLogOptions extends LogStore {
  mode: DecisionLogMode;
  /** Entries held at most before answers wait for room. */
  queueMax: number;
  /** The masks for one entry; throws when they cannot be known (then the input is not kept). */
  masks: MaskSource;
  metrics: Metrics;
  log: LogLogger;
  /** Where entries go that the database cannot take at shutdown; null: nowhere (they are lost). */
  spillDir: string | null;
  /** Entries per write. */
  batchMax?: number;
  /** How long a batch short of batchMax is left to gather before it is written; default 0 (at once). */
  lingerMs?: number;
  /** Durable mode: how long an answer waits for its commit before it is refused instead. */
  durableTimeoutMs?: number;
}

export class DecisionLog {
  readonly mode: DecisionLogMode;
  readonly #options: DecisionLogOptions;
  readonly #batchMax: number;
  readonly #queue: EntryQueue;
  readonly #writer: LogWriter;
  /** When what is left must be spilled: set when the stop begins. */
  #deadline = Number.POSITIVE_INFINITY;
  #deadlineTimer: NodeJS.Timeout | undefined;

  constructor(options: DecisionLogOptions) {
    this.mode = options.mode;
    this.#options = options;
    this.#batchMax = options.batchMax ?? 1000;
    this.#queue = new EntryQueue({
      queueMax: options.queueMax,
      durableTimeoutMs: options.durableTimeoutMs ?? 10_000,
      toRow: (entry) => entryRow(entry, options.masks, options.log),
      ...(options.writeEncoded === undefined
        ? {}
        : { toEncoded: (entry: DecisionLogEntry) => encodedEntry(entry, options.masks, options.log) }),
      metrics: options.metrics,
      onWork: () => this.#writer.signal(),
    });
    this.#writer = new LogWriter(this.#queue, options, options, this.#batchMax, options.lingerMs ?? 0);
  }

  /** Entries not yet written. */
  get depth(): number {
    return this.#queue.depth;
  }

  /**
   * Hands answers to the log. Buffered: resolves once they are queued (waiting for room when
   * the queue is full). Durable: resolves once they are committed; rejects with 503
   * decision_log_unavailable when that takes too long, so an unlogged answer is never sent (and
   * the entry says it was refused). Once the stop has begun, a full queue lets them in rather than
   * makes them wait.
   */
  async record(entries: DecisionLogEntry[]): Promise<void> {
    if (this.mode === 'off' || entries.length === 0) return;
    await this.#queue.add(entries, this.mode === 'durable');
  }

  /** When what the database has not taken is spilled (ms since the epoch): set when the stop begins. */
  get deadline(): number {
    return this.#deadline;
  }

  /** Starts the writer (once the database is migrated). */
  start(): void {
    this.#writer.start();
  }

  /**
   * Begins the stop, at the signal, while in-flight requests finish: answers that would wait for
   * room in a full queue are let in past the bound instead, so they cannot hold the stop up; and
   * what the database has not taken by the deadline (ms since the epoch) is spilled then, whether
   * or not close() has come (a request hanging on the database holds the rest of the stop open).
   * A later call may bring the deadline nearer, never put it off.
   */
  stop(deadline: number): void {
    this.#queue.openBound();
    if (deadline >= this.#deadline) return;
    this.#deadline = deadline;
    this.#writer.stopBy(deadline);
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = setTimeout(() => this.spillNow(), Math.max(0, deadline - Date.now()));
    this.#deadlineTimer.unref();
  }

  /**
   * Ends the stop once no more entries come: writes what is queued, retrying a failing database
   * until the stop's deadline (now, if no stop began), then spills what is left, a write still under
   * way included (replaying it is harmless). Resolves when done.
   */
  async close(): Promise<void> {
    if (this.#deadline === Number.POSITIVE_INFINITY) this.stop(Date.now());
    await this.#writer.finish();
    clearTimeout(this.#deadlineTimer);
    this.spillNow();
  }

  /**
   * Spills at once, synchronously, what is queued, being written or waiting to be corrected: at
   * the stop's deadline, at the end of close(), and as the last thing before the process exits,
   * however it exits (a forced exit included). Never throws.
   */
  spillNow(): void {
    if (this.#queue.empty) return;
    try {
      this.#spill();
    } catch (error) {
      const lost = this.#queue.all().length;
      this.#options.log.error({ err: error, lost }, 'decision log: could not spill what the database did not take');
    }
  }

  /**
   * Writes what is still queued (already masked) to a new spill file, and the corrections not yet
   * applied, as the refused entries (a replay inserts what is missing and marks refused what went
   * in as answered).
   */
  #spill(): void {
    const { spillDir, log, metrics } = this.#options;
    const spilled = this.#queue.all();
    const rows = spilled.map((p) => this.#queue.rowOf(p));
    if (spillDir === null) {
      const lost = rows.length;
      log.error({ lost }, `decision log: ${lost} entries could not be written and there is no spill folder`);
      return;
    }
    const file = writeSpillFile(spillDir, rows);
    metrics.logSpilled.inc(rows.length);
    this.#queue.spilled(spilled);
    log.warn(
      { file, entries: rows.length },
      'decision log: the database could not take every entry before shutdown; ' +
        'spilled them to a file, written at the next start',
    );
  }

  /**
   * Writes the entries of spill files left by earlier shutdowns, then deletes the files. A line that
   * is not an entry (a torn write) is set aside in <file>.bad rather than blocking the rest.
   */
  async replaySpill(): Promise<number> {
    const { spillDir, log } = this.#options;
    if (spillDir === null) return 0;
    let replayed = 0;
    for (const file of claimSpillFiles(spillDir)) {
      try {
        const { rows, bad } = file.read();
        await this.#replay(rows);
        file.done(bad);
        const { name } = file;
        if (bad.length > 0) {
          const lines = bad.length;
          log.error({ file: name, lines }, 'decision log: spill file lines that are not entries were set aside');
        }
        replayed += rows.length;
        const entries = rows.length;
        log.info({ file: name, entries }, 'decision log: wrote the entries spilled at an earlier shutdown');
      } catch (error) {
        file.release();
        log.warn({ err: error, file: file.name }, 'decision log: could not replay a spill file yet; will retry');
      }
    }
    return replayed;
  }

  async #replay(rows: NewDecisionLogRow[]): Promise<void> {
    const batchMax = this.#batchMax;
    for (let i = 0; i < rows.length; i += batchMax) {
      await storeRows(this.#options, rows.slice(i, i + batchMax), this.#options);
    }
    // A refused entry may already be in the log as answered (its spill was a correction):
    // inserting it skipped it, so it is marked refused too.
    const refusals = rows.flatMap((row) => {
      const refusal = refusalOf(row);
      const at = row.decided_at;
      if (refusal === null || at === undefined) return [];
      return [{ key: { decision_id: row.decision_id, decided_at: at }, refusal }];
    });
    for (let i = 0; i < refusals.length; i += batchMax) {
      const part = refusals.slice(i, i + batchMax);
      await this.#options.markRefused(
        part.map((r) => r.key),
        (part[0] as (typeof part)[number]).refusal,
      );
    }
  }
}
