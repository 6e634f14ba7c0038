// The decision log queue: every answer is handed here and written to the database in batches by
// one writer, off the request path. The queue is bounded: when it is full, answers wait for room
// (backpressure) rather than entries being dropped. While the database is down entries stay
// queued and are retried; at shutdown the queue is drained, and what the database still cannot
// take by the deadline is spilled to a file that is written on a later start. In durable mode an
// answer waits until its entry is committed; entries arriving during a write go in the next one
// (group commit).
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import type { DecisionEndpoint, MaskApplied, NewDecisionLogRow } from '../data/schema.ts';
import type { LogMask } from '../policy/engine.ts';
import { applyLogMasks, type LoggedParts } from './log-masks.ts';
import type { Metrics } from './metrics.ts';

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
  /** Durable mode: resolves the answer waiting for this entry (the last of its request). */
  committed?: () => void;
}

/** Input and result text per write at most (one entry always goes): a batch of list queries, a megabyte each, must not stall the process. */
const BATCH_BYTES = 4 * 1024 * 1024;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
const SPILL_FILE = /^decisions-[\w.-]+\.jsonl$/;

/** SQLSTATE classes that mean "this row cannot be stored as it is", not "the database is away". */
const isRowProblem = (error: unknown) => /^(22|23|42|54)/.test(String((error as { code?: unknown })?.code ?? ''));

// jsonb cannot hold U+0000; an unescaped \u0000 in the JSON text becomes U+FFFD.
const storableJson = (value: unknown): string => {
  const text = JSON.stringify(value) ?? 'null';
  return text.includes('\\u0000') ? text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : text;
};

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
  #roomWaiters: Array<() => void> = [];
  /** Wakes the idle writer: new entries, or shutdown. */
  #wake: (() => void) | null = null;
  /** Cuts a retry pause short: shutdown only (new entries must not hammer a failing database). */
  #interrupt: (() => void) | null = null;
  #running: Promise<void> | null = null;
  #stopping = false;
  #deadline = Number.POSITIVE_INFINITY;
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
   * decision_log_unavailable when that takes too long, so an unlogged answer is never sent.
   */
  async record(entries: DecisionLogEntry[]): Promise<void> {
    if (this.mode === 'off' || entries.length === 0) return;
    while (this.#queue.length > 0 && this.#queue.length + entries.length > this.#options.queueMax) {
      this.#options.metrics.logBackpressureWaits.inc();
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    const pending = entries.map((entry): Pending => ({ entry, row: null }));
    const committed =
      this.mode === 'durable'
        ? new Promise<void>((resolve) => {
            (pending[pending.length - 1] as Pending).committed = resolve;
          })
        : null;
    for (const p of pending) this.#queue.push(p);
    this.#options.metrics.logQueueDepth.set(this.#queue.length);
    this.#signal();
    if (committed !== null) await this.#withinDurableTimeout(committed);
  }

  async #withinDurableTimeout(committed: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#durableTimeoutMs);
    });
    try {
      if ((await Promise.race([committed, timedOut])) === 'timeout') {
        throw new AppError(503, 'decision_log_unavailable', 'the decision could not be logged in time (durable decision log); not answered');
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the writer (once the database is migrated). */
  start(): void {
    this.#running ??= this.#run();
  }

  /**
   * Stops taking the queue further than needed: writes what is queued, retrying a failing
   * database until deadlineMs from now, then spills what is left. Resolves when done.
   */
  async close(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    this.#deadline = Date.now() + deadlineMs;
    this.#signal();
    this.#interrupt?.();
    if (this.#running !== null) await this.#running;
    if (this.#queue.length > 0) this.#spill();
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
      if (this.#queue.length === 0) {
        if (this.#stopping) return;
        await this.#idle();
        continue;
      }
      if (this.#stopping && Date.now() >= this.#deadline) return;
      const batch = this.#nextBatch();
      const started = performance.now();
      try {
        await this.#writeBatch(batch);
      } catch (error) {
        this.#failed(error);
        const delay = Math.min(FIRST_RETRY_MS * 2 ** Math.min(this.#failures - 1, 10), MAX_RETRY_MS);
        await this.#backOff(this.#stopping ? Math.min(delay, Math.max(0, this.#deadline - Date.now())) : delay);
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
      p.row ??= this.#toRow(p.entry);
      const size = String(p.row.input ?? '').length + String(p.row.result).length;
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      batch.push(p);
      bytes += size;
    }
    return batch;
  }

  async #writeBatch(batch: Pending[]): Promise<void> {
    const rows = batch.map((p) => (p.row ??= this.#toRow(p.entry)));
    try {
      await this.#options.write(rows);
    } catch (error) {
      if (!isRowProblem(error)) throw error;
      // One entry the database refuses must not hold up the rest: write them one by one, and
      // keep a refused one without its input rather than lose it. Rewriting is harmless: rows
      // already written are skipped.
      for (const p of batch) await this.#writeAlone(p);
    }
  }

  async #writeAlone(p: Pending): Promise<void> {
    const row = p.row as NewDecisionLogRow;
    try {
      await this.#options.write([row]);
      return;
    } catch (error) {
      if (!isRowProblem(error)) throw error;
      this.#options.log.error({ err: error, decisionId: p.entry.decisionId }, 'decision log entry refused by the database; keeping it without its input');
      const applied: MaskApplied[] = [{ op: 'remove', path: '/input' }];
      p.row = {
        ...row,
        input: null,
        result: storableJson({ allow: p.entry.allow, reason_codes: p.entry.reasonCodes }),
        masked: JSON.stringify(applied),
        error: JSON.stringify({ code: 'log_entry_unstorable', message: (error as Error).message }),
      };
    }
    await this.#options.write([p.row]);
  }

  #failed(error: unknown): void {
    this.#failures += 1;
    const { metrics, log } = this.#options;
    metrics.logWriteErrors.inc();
    metrics.logWaitingOnDatabase.set(this.#queue.length);
    if (this.#failures === 1 || this.#failures % 20 === 0) {
      log.warn(
        { err: error, attempt: this.#failures, queued: this.#queue.length },
        `decision log: cannot write (${(error as Error).message}); ${this.#queue.length} entries held, retrying`,
      );
    }
  }

  #written(batch: Pending[], ms: number): void {
    const { metrics, log } = this.#options;
    this.#queue.splice(0, batch.length);
    for (const p of batch) p.committed?.();
    if (this.#failures > 0) {
      log.info({ attempts: this.#failures, queued: this.#queue.length }, 'decision log: writing again after a failure');
      this.#failures = 0;
    }
    metrics.logWritten.inc(batch.length);
    metrics.logWriteSeconds.observe(ms / 1000);
    metrics.logQueueDepth.set(this.#queue.length);
    metrics.logWaitingOnDatabase.set(0);
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #toRow(entry: DecisionLogEntry): NewDecisionLogRow {
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
    return {
      decision_id: entry.decisionId,
      decided_at: entry.decidedAt,
      endpoint: entry.endpoint,
      batch_id: entry.batchId,
      token_id: entry.tokenId,
      subject_id: entry.subjectId,
      action: entry.action,
      resource_type: entry.resourceType,
      resource_id: entry.resourceId,
      allow: entry.allow,
      reason_codes: entry.reasonCodes,
      input: parts.input === null || parts.input === undefined ? null : storableJson(parts.input),
      result: storableJson(parts.result),
      masked: JSON.stringify(applied),
      error: entry.error === null ? null : storableJson(entry.error),
      policy_revision: entry.policyRevision,
      eval_us: entry.evalUs,
      duration_us: entry.durationUs,
    };
  }

  /** Writes what is still queued (already masked) to a new file in the spill folder. */
  #spill(): void {
    const { spillDir, log, metrics } = this.#options;
    const rows = this.#queue.map((p) => (p.row ??= this.#toRow(p.entry)));
    if (spillDir === null) {
      log.error({ lost: rows.length }, `decision log: ${rows.length} entries could not be written and there is no spill folder`);
      return;
    }
    mkdirSync(spillDir, { recursive: true });
    const file = join(spillDir, `decisions-${Date.now()}-${process.pid}.jsonl`);
    writeFileSync(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n', { mode: 0o600 });
    metrics.logSpilled.inc(rows.length);
    this.#queue = [];
    metrics.logQueueDepth.set(0);
    log.warn({ file, entries: rows.length }, 'decision log: the database could not take every entry before shutdown; spilled them to a file, written at the next start');
  }

  /** Writes the entries of spill files left by earlier shutdowns, then deletes the files. */
  async replaySpill(): Promise<number> {
    const { spillDir, write, log } = this.#options;
    if (spillDir === null) return 0;
    let files: string[];
    try {
      files = readdirSync(spillDir).filter((name) => SPILL_FILE.test(name));
    } catch {
      return 0;
    }
    let replayed = 0;
    for (const name of files) {
      // Claim the file first, so that two processes starting together do not both replay it.
      const claimed = join(spillDir, `${name}.replaying-${process.pid}`);
      try {
        renameSync(join(spillDir, name), claimed);
      } catch {
        continue;
      }
      try {
        const rows = readFileSync(claimed, 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as NewDecisionLogRow);
        for (let i = 0; i < rows.length; i += this.#batchMax) await write(rows.slice(i, i + this.#batchMax));
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
