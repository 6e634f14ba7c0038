// Keeps the fact caches of a cluster's workers in step (CLEARANCE_WORKERS above 1), so that a
// decision or a token check asked after a write's answer sees the write on whichever worker it
// lands, revocations included.
//
// A worker that committed a write tells the supervisor what changed; the supervisor bumps a shared
// generation, then passes the changes to every other worker, which drops them and acknowledges.
// The write is answered once all have acknowledged, or ACK_BOUND_MS passed. A worker cannot see a
// message it has not read yet (its event loop may be blocked), so each one checks, synchronously,
// before a request uses its cache, whether the generation has moved past the last change it
// applied; while it has, the request reads the database instead. The generation is the length of
// a small file (ftruncate by the supervisor, fstat by the workers, one system call of a few µs):
// a file's length is one inode field, set and read whole, where bytes written to it could be read
// half old, half new. The supervisor bumps it before any worker hears of the change, and the
// writer answers only after the bump, so a request that arrives after the answer either finds its
// worker caught up or sees the bump. Only cluster mode pays for this.
import type { Worker } from 'node:cluster';
import { fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Peers } from './domain/facts.ts';

/** How long a write waits for the other workers to drop what it changed. */
export const ACK_BOUND_MS = 250;

/** A worker that missed the bound is reported at most this often. */
const LATE_REPORT_EVERY_MS = 10_000;

export type Message =
  /** Worker → supervisor, at start: send me the changes from now on. */
  | { type: 'clearance:follow' }
  /** Worker → supervisor: a write committed these changes (factChange payloads, or "*"). */
  | { type: 'clearance:changed'; id: number; changes: string[] }
  /** Worker → supervisor: every change up to this generation is dropped. */
  | { type: 'clearance:applied'; generation: number }
  /** Supervisor → worker: drop these; they are this generation (the first message also names the file). */
  | { type: 'clearance:invalidate'; generation: number; changes: string[]; file?: string }
  /** Supervisor → writer: the other workers dropped the changes of write `id` (or the bound passed). */
  | { type: 'clearance:announced'; id: number; generation: number };

const isMessage = (message: unknown): message is Message =>
  typeof message === 'object' &&
  message !== null &&
  String((message as { type?: unknown }).type).startsWith('clearance:');

/** What the relay needs of a worker (a cluster Worker). */
export type RelayWorker = Pick<Worker, 'id' | 'isConnected'> & {
  send(message: Message, callback: (error: Error | null) => void): boolean;
  process: { pid?: number | undefined };
};

/** One write's changes, waiting for the workers to acknowledge them. */
interface Announcement {
  generation: number;
  writer: RelayWorker;
  id: number;
  waiting: Set<RelayWorker>;
  timer: NodeJS.Timeout;
}

/** The supervisor's half: keeps the generation and passes changes on. */
export class ChangeRelay {
  readonly #dir = mkdtempSync(join(tmpdir(), 'clearance-workers-'));
  readonly #file = join(this.#dir, 'generation');
  readonly #fd = openSync(this.#file, 'w', 0o600);
  #generation = 0;
  readonly #followers = new Set<RelayWorker>();
  readonly #announcements = new Set<Announcement>();
  readonly #lateReported = new Map<number, number>();
  readonly #warn: (message: string, fields: Record<string, unknown>) => void;

  constructor(warn: (message: string, fields: Record<string, unknown>) => void) {
    this.#warn = warn;
  }

  /** Handles a worker's message; false when it is not one of the relay's. */
  onMessage(worker: RelayWorker, message: unknown): boolean {
    if (!isMessage(message)) return false;
    switch (message.type) {
      case 'clearance:follow':
        this.#followers.add(worker);
        // It starts with an empty cache: everything up to now counts as applied there.
        send(worker, { type: 'clearance:invalidate', generation: this.#generation, changes: ['*'], file: this.#file });
        return true;
      case 'clearance:changed':
        this.#announce(worker, message.id, message.changes);
        return true;
      case 'clearance:applied':
        for (const announcement of this.#announcements) {
          if (announcement.generation <= message.generation) this.#acknowledged(announcement, worker);
        }
        return true;
      default:
        return false;
    }
  }

  /** A worker that exited acknowledges nothing more; writes waiting on it go on without it. */
  onExit(worker: RelayWorker): void {
    this.#followers.delete(worker);
    for (const announcement of this.#announcements) {
      if (announcement.writer === worker) this.#finish(announcement);
      else this.#acknowledged(announcement, worker);
    }
  }

  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #announce(writer: RelayWorker, id: number, changes: string[]): void {
    this.#generation += 1;
    // Before any worker hears of it: from now on a worker that has not applied it sees it is behind.
    ftruncateSync(this.#fd, this.#generation);
    const generation = this.#generation;
    const waiting = new Set([...this.#followers].filter((worker) => worker !== writer && worker.isConnected()));
    const announcement: Announcement = {
      generation,
      writer,
      id,
      waiting,
      timer: setTimeout(() => this.#finish(announcement), ACK_BOUND_MS),
    };
    this.#announcements.add(announcement);
    for (const worker of waiting) send(worker, { type: 'clearance:invalidate', generation, changes });
    if (waiting.size === 0) this.#finish(announcement);
  }

  #acknowledged(announcement: Announcement, worker: RelayWorker): void {
    announcement.waiting.delete(worker);
    if (announcement.waiting.size === 0) this.#finish(announcement);
  }

  #finish(announcement: Announcement): void {
    if (!this.#announcements.delete(announcement)) return;
    clearTimeout(announcement.timer);
    const now = Date.now();
    for (const late of announcement.waiting) {
      if (now - (this.#lateReported.get(late.id) ?? 0) < LATE_REPORT_EVERY_MS) continue;
      this.#lateReported.set(late.id, now);
      this.#warn(
        `worker ${late.process.pid} did not drop a write's changes within ${ACK_BOUND_MS} ms; it reads the database until it catches up`,
        {
          worker: late.id,
        },
      );
    }
    if (announcement.writer.isConnected())
      send(announcement.writer, {
        type: 'clearance:announced',
        id: announcement.id,
        generation: announcement.generation,
      });
  }
}

/** A message to a worker whose channel may close meanwhile: then it is gone, and its exit is handled. */
function send(worker: RelayWorker, message: Message): void {
  try {
    worker.send(message, () => undefined);
  } catch {
    // The channel closed: the worker is exiting.
  }
}

/** A worker's half: applies the changes the others announce, announces its own, and knows when it is behind. */
export class WorkerPeers implements Peers {
  #fd: number | null = null;
  #applied = -1;
  // Until the fact cache exists there is nothing to drop (it starts empty).
  #apply: (change: string) => void = () => undefined;
  #nextId = 0;
  readonly #waiting = new Map<number, () => void>();

  constructor() {
    process.on('message', (message: unknown) => this.#onMessage(message));
    // The supervisor is gone (the worker exits too): nothing will answer.
    process.on('disconnect', () => {
      for (const resolve of this.#waiting.values()) resolve();
      this.#waiting.clear();
    });
    process.send?.({ type: 'clearance:follow' } satisfies Message);
  }

  behind(): boolean {
    // Not yet told where the generation is: nothing is known to be applied.
    if (this.#fd === null) return true;
    return fstatSync(this.#fd).size > this.#applied;
  }

  follow(apply: (change: string) => void): void {
    this.#apply = apply;
  }

  announce(changes: readonly string[]): Promise<void> {
    if (process.send === undefined || !process.connected) return Promise.resolve();
    this.#nextId += 1;
    const id = this.#nextId;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      process.send?.(
        { type: 'clearance:changed', id, changes: [...changes] } satisfies Message,
        undefined,
        {},
        (error: Error | null) => {
          if (error === null) return;
          this.#waiting.delete(id);
          resolve();
        },
      );
    });
  }

  #onMessage(message: unknown): void {
    if (!isMessage(message)) return;
    if (message.type === 'clearance:invalidate') {
      if (message.file !== undefined && this.#fd === null) this.#fd = openSync(message.file, 'r');
      for (const change of message.changes) this.#apply(change);
      this.#applied = Math.max(this.#applied, message.generation);
      process.send?.({ type: 'clearance:applied', generation: message.generation } satisfies Message);
    } else if (message.type === 'clearance:announced') {
      // Every generation before this one reached this worker before this answer did (the
      // supervisor sends in order), and this one is its own write, dropped here at commit.
      this.#applied = Math.max(this.#applied, message.generation);
      this.#waiting.get(message.id)?.();
      this.#waiting.delete(message.id);
    }
  }
}
