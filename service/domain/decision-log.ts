// The decision log queue: every answer is handed here and written to the database in batches by
// one writer, off the request path. The queue is bounded (a list query's entry weighs by its
// clients): when it is full, answers wait for room (backpressure) rather than entries being
// dropped. While the database is down entries stay queued and are retried; at shutdown the queue
// is drained, and what the database still cannot take by the deadline (counted from the start of
// the stop; a failing or a hanging write alike) is spilled to a file that is written on a later
// start — as is what is left when the process exits any other way (spillNow). In durable mode an answer
// waits until its entry is committed; entries arriving during a write go in the next one (group
// commit); an answer refused because its entry was not committed in time is logged as refused.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import type { DecisionEndpoint, MaskApplied, NewDecisionLogRow } from '../data/schema.ts';
import type { LogMask } from '../policy/engine.ts';
import { applyLogMasks, type LoggedParts } from './log-masks.ts';
import type { Metrics } from './metrics.ts';
import { storableJson, storableText } from './storable.ts';

export type DecisionLogMode = 'buffered' | 'durable' | 'off';

/** One answer, as the decision path hands it over. */
export interface DecisionLogEntry {
  decisionId: string;
  decidedAt: Date;
  endpoint: DecisionEndpoint;
  batchId: string | null;
  tokenId: string | null;
  subjectId: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  /** The full policy input; null when it could not be assembled. */
  input: unknown;
  result: unknown;
  /** null for a list query. */
  allow: boolean | null;
  reasonCodes: string[];
  error: { code: string; message: string } | null;
  policyRevision: string | null;
  evalUs: number | null;
  durationUs: number;
}

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DecisionLogOptions {
  mode: DecisionLogMode;
  /** Entries held at most before answers wait for room. */
  queueMax: number;
  write(rows: NewDecisionLogRow[]): Promise<void>;
  /** Marks entries already written as refused (a durable answer that timed out while its write was under way). */
  markRefused(keys: Array<{ decision_id: string; decided_at: Date | string }>, error: { code: string; message: string }): Promise<void>;
  /** The masks for one entry; throws when they cannot be known (then the input is not kept). */
  masks(entry: LoggedParts & { endpoint: DecisionEndpoint }): LogMask[];
  metrics: Metrics;
  log: Logger;
  /** Where entries go that the database cannot take at shutdown; null: nowhere (they are lost). */
  spillDir: string | null;
  /** Entries per write. */
  batchMax?: number;
  /** Durable mode: how long an answer waits for its commit before it is refused instead. */
  durableTimeoutMs?: number;
}

interface Pending {
  entry: DecisionLogEntry;
  row: NewDecisionLogRow | null;
  /** Its share of the queue bound. */
  weight: number;
  /** Durable mode: resolves the answer waiting for this entry (the last of its request). */
  committed?: () => void;
  /** Durable mode: the answer was refused because this entry was not committed in time. */
  refused?: { code: string; message: string };
  /**
   * Its row has left the queue as it was at least once (a write, perhaps committed even if it
   * failed, or a spill file): a refusal from then on is a correction, not just a different row.
   */
  sent?: boolean;
}

/** A list query's entry holds a row per client: it weighs one per ten of them. */
function weight(entry: DecisionLogEntry): number {
  const clients = (entry.input as { clients?: unknown } | null)?.clients;
  return Array.isArray(clients) ? 1 + Math.ceil(clients.length / 10) : 1;
}

const NOT_LOGGED_IN_TIME = 'decision_log_unavailable';
const durableTimeout = () =>
  new AppError(503, NOT_LOGGED_IN_TIME, 'the decision could not be logged in time (durable decision log); not answered');

/** Input and result text per write at most (one entry always goes): a batch of list queries, a megabyte each, must not stall the process. */
const BATCH_BYTES = 4 * 1024 * 1024;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
const SPILL_FILE = /^decisions-[\w.-]+\.jsonl$/;
/** A spill file held by a process: being written (under a name no replay takes) or being replayed. */
const HELD_FILE = /^(decisions-[\w.-]+\.jsonl)\.(?:writing|replaying)-(\d+)$/;

/**
 * Writes a file in the spill folder whole before it has its name: under a name of its own until it
 * is on disk, then renamed (atomic), so a replay (another worker, the hourly one) never takes half
 * of it. One left half-written by a process that died is taken back by a replay like a claim.
 */
function writeWhole(dir: string, name: string, text: string): void {
  const writing = join(dir, `${name}.writing-${process.pid}`);
  const fd = openSync(writing, 'w', 0o600);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(writing, join(dir, name));
}

/**
 * SQLSTATE classes that mean "this row cannot be stored as it is" (data exceptions, constraints,
 * program limits), not "the database is away" or "the schema is wrong" (those are retried).
 */
const isRowProblem = (error: unknown) => /^(22|23|54)/.test(String((error as { code?: unknown })?.code ?? ''));

/** The row of an entry whose answer was refused after the decision: the policy's result is kept. */
const refusedRow = (row: NewDecisionLogRow, error: { code: string; message: string }): NewDecisionLogRow => ({
  ...row,
  allow: false,
  reason_codes: [error.code],
  error: JSON.stringify(error),
});

/** The refusal a row records when its answer was refused after the decision (refusedRow), else null. */
function refusalOf(row: NewDecisionLogRow): { code: string; message: string } | null {
  if (typeof row.error !== 'string' || row.allow !== false) return null;
  const error = JSON.parse(row.error) as { code?: unknown; message?: unknown } | null;
  return error?.code === NOT_LOGGED_IN_TIME && typeof error.message === 'string' ? { code: error.code, message: error.message } : null;
}

/** Text columns of a row kept without its input are cut to this (the API's own ids are at most 128). */
const UNSTORABLE_TEXT_MAX = 256;
const cut = (text: string | null | undefined) => (text == null || text.length <= UNSTORABLE_TEXT_MAX ? (text ?? null) : `${text.slice(0, UNSTORABLE_TEXT_MAX)}…`);

/**
 * A row the database refused, kept without its input: the verdict stays, saying why the rest is
 * missing. Its text is cut short too (an index refuses text over a few kilobytes), so that it is
 * storable whatever made the original not.
 */
const unstorableRow = (row: NewDecisionLogRow, error: Error): NewDecisionLogRow => ({
  ...row,
  token_id: cut(row.token_id),
  subject_id: cut(row.subject_id) as string,
  action: cut(row.action) as string,
  resource_type: cut(row.resource_type) as string,
  resource_id: cut(row.resource_id),
  policy_revision: cut(row.policy_revision),
  input: null,
  result: JSON.stringify({ allow: row.allow, reason_codes: row.reason_codes }),
  masked: JSON.stringify([{ op: 'remove', path: '/input' }] satisfies MaskApplied[]),
  error: JSON.stringify({ code: 'log_entry_unstorable', message: cut(error.message) }),
});

/**
 * What the mask policy is shown. A list query's input holds a row per client and its result an id
 * per client (a megabyte for 10,000 clients); the policy sees the rest (subject, account, action)
 * and its masks apply to the whole entry.
 */
function maskView(endpoint: DecisionEndpoint, parts: LoggedParts): LoggedParts {
  if (endpoint !== 'query' || typeof parts.input !== 'object' || parts.input === null) return parts;
  const { clients: _clients, ...input } = parts.input as Record<string, unknown>;
  return { input, result: {} };
}

export class DecisionLog {
  readonly mode: DecisionLogMode;
  readonly #options: DecisionLogOptions;
  readonly #batchMax: number;
  readonly #durableTimeoutMs: number;
  #queue: Pending[] = [];
  #queuedWeight = 0;
  #roomWaiters: Array<() => void> = [];
  /**
   * Once stopping begins, answers do not wait for room: they are let in past the bound. No request
   * reaches a handler once the server is closing, so what is still to come is bounded by the
   * requests already in flight (whose entries are in memory anyway); waiting would hold the stop.
   */
  #pastBound = false;
  /** Entries that may be in the log as answered whose answer was then refused (durable timeout), to be corrected. */
  #corrections: Pending[] = [];
  /** Wakes the idle writer: new entries, or shutdown. */
  #wake: (() => void) | null = null;
  /** Cuts a retry pause short: shutdown only (new entries must not hammer a failing database). */
  #interrupt: (() => void) | null = null;
  #running: Promise<void> | null = null;
  /** close() was called: no more entries come, and the writer ends once it has nothing left. */
  #stopping = false;
  /** When what is left must be spilled: set when stopping begins. */
  #deadline = Number.POSITIVE_INFINITY;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(options: DecisionLogOptions) {
    this.mode = options.mode;
    this.#options = options;
    this.#batchMax = options.batchMax ?? 1000;
    this.#durableTimeoutMs = options.durableTimeoutMs ?? 10_000;
  }

  /** Entries not yet written. */
  get depth(): number {
    return this.#queue.length;
  }

  /**
   * Hands answers to the log. Buffered: resolves once they are queued (waiting for room when
   * the queue is full). Durable: resolves once they are committed; rejects with 503
   * decision_log_unavailable when that takes too long, so an unlogged answer is never sent (and
   * the entry says it was refused). Once stopping has begun, a full queue lets them in rather than
   * makes them wait.
   */
  async record(entries: DecisionLogEntry[]): Promise<void> {
    if (this.mode === 'off' || entries.length === 0) return;
    const pending = entries.map((entry): Pending => ({ entry, row: null, weight: weight(entry) }));
    const needed = pending.reduce((sum, p) => sum + p.weight, 0);
    while (!this.#pastBound && this.#queuedWeight > 0 && this.#queuedWeight + needed > this.#options.queueMax) {
      this.#options.metrics.logBackpressureWaits.inc();
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    const committed =
      this.mode === 'durable'
        ? new Promise<void>((resolve) => {
            (pending[pending.length - 1] as Pending).committed = resolve;
          })
        : null;
    for (const p of pending) this.#queue.push(p);
    this.#queuedWeight += needed;
    this.#gauges();
    this.#signal();
    if (committed !== null && !(await this.#committedInTime(committed))) {
      const error = durableTimeout();
      for (const p of pending) this.#refuse(p, error);
      throw error;
    }
  }

  async #committedInTime(committed: Promise<void>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#durableTimeoutMs);
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
      this.#signal();
    }
  }

  /** Starts the writer (once the database is migrated). */
  start(): void {
    this.#running ??= this.#run();
  }

  /**
   * The first step of stopping, at the signal, while in-flight requests finish: answers that would
   * wait for room in a full queue are let in past the bound instead, so they cannot hold the stop
   * up; and what the database has not taken deadlineMs from now is spilled then, whether or not
   * close() has come (a request hanging on the database holds the rest of the stop open).
   */
  beginStop(deadlineMs = Number.POSITIVE_INFINITY): void {
    this.#pastBound = true;
    this.#wakeRoomWaiters();
    const deadline = Date.now() + deadlineMs;
    if (deadline >= this.#deadline) return;
    this.#deadline = deadline;
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = setTimeout(() => this.spillNow(), deadlineMs);
    this.#deadlineTimer.unref();
  }

  /**
   * Writes what is queued, retrying a failing database until the stop's deadline (deadlineMs from
   * now, or the earlier one beginStop set), then spills what is left, a write still under way
   * included (replaying it is harmless). Resolves when done.
   */
  async close(deadlineMs: number): Promise<void> {
    this.beginStop(deadlineMs);
    this.#stopping = true;
    this.#signal();
    this.#interrupt?.();
    if (this.#running !== null) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, this.#deadline - Date.now()) + 50);
      });
      await Promise.race([this.#running, deadline]);
      clearTimeout(timer);
    }
    clearTimeout(this.#deadlineTimer);
    this.spillNow();
  }

  /**
   * Spills at once, synchronously, what is queued, being written or waiting to be corrected: at
   * the stop's deadline, at the end of close(), and as the last thing before the process exits,
   * however it exits (a forced exit included). Never throws.
   */
  spillNow(): void {
    if (this.#queue.length === 0 && this.#corrections.length === 0) return;
    try {
      this.#spill();
    } catch (error) {
      this.#options.log.error({ err: error, lost: this.#queue.length + this.#corrections.length }, 'decision log: could not spill what the database did not take');
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Sleeps until signalled. */
  #idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Sleeps ms, or less when shutdown begins. */
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
    for (;;) {
      if (this.#queue.length === 0 && this.#corrections.length === 0) {
        if (this.#stopping) return;
        await this.#idle();
        continue;
      }
      if (this.#stopping && Date.now() >= this.#deadline) return;
      const started = performance.now();
      let batch: Pending[] = [];
      try {
        await this.#applyCorrections();
        if (this.#queue.length === 0) continue;
        batch = this.#nextBatch();
        for (const p of batch) p.sent = true;
        await this.#store(batch.map((p) => this.#rowOf(p)));
      } catch (error) {
        this.#failed(error);
        const delay = Math.min(FIRST_RETRY_MS * 2 ** Math.min(this.#failures - 1, 10), MAX_RETRY_MS);
        // Stopping: one more try before the deadline. Past it (spilled, in-flight requests still
        // finishing), the usual pause.
        const left = this.#deadline - Date.now();
        await this.#backOff(left > 0 ? Math.min(delay, left) : delay);
        continue;
      }
      this.#written(batch, performance.now() - started);
    }
  }

  /** The oldest entries, up to batchMax of them and BATCH_BYTES of input and result text. */
  #nextBatch(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    for (const p of this.#queue) {
      if (batch.length === this.#batchMax) break;
      const row = this.#rowOf(p);
      const size = String(row.input ?? '').length + String(row.result).length;
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      batch.push(p);
      bytes += size;
    }
    return batch;
  }

  /**
   * Writes rows in one go. Rows are built storable (storable.ts), so the database refusing one is
   * rare; when it does, it must not cost the others their throughput: the rows are halved and each
   * half written, down to the refused row, which is kept without its input rather than lost — about
   * 2·log2(n) writes for one bad row in n, not n (rewriting is harmless: rows already written are
   * skipped). The writer and the spill replay both write so.
   */
  async #store(rows: NewDecisionLogRow[]): Promise<void> {
    try {
      await this.#options.write(rows);
    } catch (error) {
      if (!isRowProblem(error)) throw error;
      const [row] = rows;
      if (rows.length === 1 && row !== undefined) {
        this.#options.log.error({ err: error, decisionId: row.decision_id }, 'decision log entry refused by the database; keeping it without its input');
        this.#options.metrics.logUnstorable.inc();
        try {
          await this.#options.write([unstorableRow(row, error as Error)]);
        } catch (again) {
          if (!isRowProblem(again)) throw again;
          // Retrying would hold up every entry behind it for ever: this one is given up, said so here.
          this.#options.log.error({ err: again, row: { ...row, input: null } }, 'decision log entry refused even without its input; not stored');
        }
        return;
      }
      const half = Math.ceil(rows.length / 2);
      for (const part of [rows.slice(0, half), rows.slice(half)]) {
        this.#options.metrics.logIsolationWrites.inc();
        await this.#store(part);
      }
    }
  }

  #failed(error: unknown): void {
    this.#failures += 1;
    const { metrics, log } = this.#options;
    metrics.logWriteErrors.inc();
    this.#gauges();
    if (this.#failures === 1 || this.#failures % 20 === 0) {
      log.warn(
        { err: error, attempt: this.#failures, queued: this.#queue.length },
        `decision log: cannot write (${(error as Error).message}); ${this.#queue.length} entries held, retrying`,
      );
    }
  }

  /** Corrects entries that may have been written as answered whose answer was refused meanwhile. */
  async #applyCorrections(): Promise<void> {
    if (this.#corrections.length === 0) return;
    const due = this.#corrections;
    const error = due[0]?.refused as { code: string; message: string };
    await this.#options.markRefused(
      due.map((p) => ({ decision_id: p.entry.decisionId, decided_at: p.entry.decidedAt })),
      error,
    );
    this.#corrections = this.#corrections.slice(due.length);
  }

  #written(batch: Pending[], ms: number): void {
    const { metrics, log } = this.#options;
    // The queue may have been spilled meanwhile (a stop past its deadline): then nothing is left to take.
    if (this.#queue[0] === batch[0]) {
      this.#queue.splice(0, batch.length);
      this.#queuedWeight -= batch.reduce((sum, p) => sum + p.weight, 0);
    }
    for (const p of batch) p.committed?.();
    if (this.#failures > 0) {
      log.info({ attempts: this.#failures, queued: this.#queue.length }, 'decision log: writing again after a failure');
      this.#failures = 0;
    }
    metrics.logWritten.inc(batch.length);
    metrics.logWriteSeconds.observe(ms / 1000);
    this.#gauges();
    this.#wakeRoomWaiters();
  }

  /** Queued entries; of those, the ones held while the database fails (from a failed write until one succeeds). */
  #gauges(): void {
    const { metrics } = this.#options;
    metrics.logQueueDepth.set(this.#queue.length);
    metrics.logWaitingOnDatabase.set(this.#failures > 0 ? this.#queue.length : 0);
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The entry's row, built once; refused if its answer was. */
  #rowOf(p: Pending): NewDecisionLogRow {
    p.row ??= this.#toRow(p.entry);
    if (p.refused !== undefined && p.row.error === null) p.row = refusedRow(p.row, p.refused);
    return p.row;
  }

  /** Never throws: an entry that cannot be serialized is kept without its input, saying why. */
  #toRow(entry: DecisionLogEntry): NewDecisionLogRow {
    try {
      return this.#maskedRow(entry);
    } catch (error) {
      this.#options.log.error({ err: error, decisionId: entry.decisionId }, 'decision log: entry could not be serialized; keeping it without its input');
      return {
        ...this.#maskedRow({ ...entry, input: null, result: { allow: entry.allow, reason_codes: entry.reasonCodes } }),
        masked: JSON.stringify([{ op: 'remove', path: '/input' }]),
        error: JSON.stringify({ code: 'log_entry_unstorable', message: (error as Error).message }),
      };
    }
  }

  /** The entry's row, masked and storable: NULs made visible, each place named in masked. */
  #maskedRow(entry: DecisionLogEntry): NewDecisionLogRow {
    let parts: LoggedParts = { input: entry.input, result: entry.result };
    let applied: MaskApplied[] = [];
    if (entry.input !== null) {
      try {
        ({ parts, applied } = applyLogMasks(parts, this.#options.masks({ endpoint: entry.endpoint, ...maskView(entry.endpoint, parts) })));
      } catch (error) {
        // Unknown masks: keep nothing that was not vetted.
        this.#options.log.error({ err: error, decisionId: entry.decisionId }, 'decision log: masks unavailable; input not logged');
        parts = { input: null, result: entry.result };
        applied = [{ op: 'remove', path: '/input' }];
      }
    }
    const escaped: string[] = [];
    const text = (value: string | null, pointer: string) => (value === null ? null : storableText(value, pointer, escaped));
    // A removed key may hold a NUL in its name: its pointer is stored made visible, and named so.
    const masks = applied.map((mask) => {
      const path = storableText(mask.path, '', []);
      if (path !== mask.path) escaped.push(path);
      return { op: mask.op, path };
    });
    const row: NewDecisionLogRow = {
      decision_id: entry.decisionId,
      decided_at: entry.decidedAt,
      endpoint: entry.endpoint,
      batch_id: entry.batchId,
      token_id: text(entry.tokenId, '/token_id'),
      subject_id: storableText(entry.subjectId, '/subject/id', escaped),
      action: storableText(entry.action, '/action', escaped),
      resource_type: storableText(entry.resourceType, '/resource/type', escaped),
      resource_id: text(entry.resourceId, '/resource/id'),
      allow: entry.allow,
      reason_codes: entry.reasonCodes,
      input: parts.input === null || parts.input === undefined ? null : storableJson(parts.input, '/input', escaped),
      result: storableJson(parts.result, '/result', escaped),
      masked: '',
      error: entry.error === null ? null : storableJson(entry.error, '/error', escaped),
      policy_revision: text(entry.policyRevision, '/policy_revision'),
      eval_us: entry.evalUs,
      duration_us: entry.durationUs,
    };
    row.masked = JSON.stringify([...masks, ...escaped.map((path): MaskApplied => ({ op: 'escape', path }))]);
    return row;
  }

  /**
   * Writes what is still queued (already masked) to a new file in the spill folder, and the
   * corrections not yet applied, as the refused entries (a replay inserts what is missing and
   * marks refused what went in as answered).
   */
  #spill(): void {
    const { spillDir, log, metrics } = this.#options;
    const spilled = [...new Set([...this.#queue, ...this.#corrections])];
    const rows = spilled.map((p) => this.#rowOf(p));
    if (spillDir === null) {
      log.error({ lost: rows.length }, `decision log: ${rows.length} entries could not be written and there is no spill folder`);
      return;
    }
    mkdirSync(spillDir, { recursive: true });
    const name = `decisions-${Date.now()}-${process.pid}.jsonl`;
    writeWhole(spillDir, name, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    const file = join(spillDir, name);
    metrics.logSpilled.inc(rows.length);
    for (const p of spilled) p.sent = true;
    this.#queue = [];
    this.#queuedWeight = 0;
    this.#corrections = [];
    this.#gauges();
    log.warn({ file, entries: rows.length }, 'decision log: the database could not take every entry before shutdown; spilled them to a file, written at the next start');
  }

  /**
   * Writes the entries of spill files left by earlier shutdowns, then deletes the files. A line that
   * is not an entry (a torn write) is set aside in <file>.bad rather than blocking the rest; a file
   * claimed, or left half-written, by a process that has since died is taken back.
   */
  async replaySpill(): Promise<number> {
    const { spillDir, log } = this.#options;
    if (spillDir === null) return 0;
    let names: string[];
    try {
      names = readdirSync(spillDir);
    } catch {
      return 0;
    }
    for (const name of names) {
      const claim = HELD_FILE.exec(name);
      if (claim !== null && !isAlive(Number(claim[2]))) {
        try {
          renameSync(join(spillDir, name), join(spillDir, claim[1] as string));
        } catch {
          // taken back by another process
        }
      }
    }
    let replayed = 0;
    for (const name of readdirSync(spillDir).filter((file) => SPILL_FILE.test(file))) {
      // Claim the file first, so that two processes starting together do not both replay it.
      const claimed = join(spillDir, `${name}.replaying-${process.pid}`);
      try {
        renameSync(join(spillDir, name), claimed);
      } catch {
        continue;
      }
      try {
        const rows: NewDecisionLogRow[] = [];
        const bad: string[] = [];
        for (const line of readFileSync(claimed, 'utf8').split('\n')) {
          if (line.trim() === '') continue;
          try {
            rows.push(JSON.parse(line) as NewDecisionLogRow);
          } catch {
            bad.push(line);
          }
        }
        for (let i = 0; i < rows.length; i += this.#batchMax) await this.#store(rows.slice(i, i + this.#batchMax));
        // A refused entry may already be in the log as answered (its spill was a correction):
        // inserting it skipped it, so it is marked refused too.
        const refusals = rows.flatMap((row) => {
          const refusal = refusalOf(row);
          const at = row.decided_at;
          return refusal === null || at === undefined ? [] : [{ key: { decision_id: row.decision_id, decided_at: at }, refusal }];
        });
        for (let i = 0; i < refusals.length; i += this.#batchMax) {
          const part = refusals.slice(i, i + this.#batchMax);
          await this.#options.markRefused(part.map((r) => r.key), (part[0] as (typeof part)[number]).refusal);
        }
        if (bad.length > 0) {
          writeWhole(spillDir, `${name}.bad`, `${bad.join('\n')}\n`);
          log.error({ file: name, lines: bad.length }, 'decision log: spill file lines that are not entries were set aside');
        }
        unlinkSync(claimed);
        replayed += rows.length;
        log.info({ file: name, entries: rows.length }, 'decision log: wrote the entries spilled at an earlier shutdown');
      } catch (error) {
        renameSync(claimed, join(spillDir, name));
        log.warn({ err: error, file: name }, 'decision log: could not replay a spill file yet; will retry');
      }
    }
    return replayed;
  }
}

/** Whether a process with this pid is running (a claim by a dead one is stale). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
