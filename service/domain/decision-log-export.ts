// The decision log export: every entry a filter matches (the list's filters, no page), newest
// first, as CSV or NDJSON, streamed from the database a page at a time so memory does not grow with
// the log. Each export is recorded in the audit trail before its first byte is sent.
import type { Kysely } from 'kysely';
import type { DecisionLogMatch } from '../data/decision-log.ts';
import { scanDecisionLogRows, scanDecisionLogSummaries, type DecisionLogSummary } from '../data/decision-log.ts';
import type { Database, DecisionLogRow } from '../data/schema.ts';
import { tokenNames } from '../data/tokens.ts';
import { AppError } from '../errors.ts';
import type { Actor, AuditedWriter } from './audit.ts';
import { csvLine } from './csv.ts';
import { tokenNameOf, toView, unavailableWhenFailing } from './decision-log-reader.ts';
import { checkWindow } from './paging.ts';
import { ENV_TOKEN_ID } from './tokens.ts';

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_COLUMNS = [
  'decision_id',
  'decided_at',
  'endpoint',
  'batch_id',
  'token_id',
  'token_name',
  'subject_id',
  'action',
  'resource_type',
  'resource_id',
  'allow',
  'reason_codes',
  'policy_revision',
  'eval_us',
  'duration_us',
  'error_code',
  'shadow_differs',
] as const;

/**
 * Entries a page: CSV rows are short; an NDJSON line holds the entry's input, a megabyte for a
 * list of 10,000 clients, so its pages are smaller (the next page is read while one is sent).
 */
const PAGE_SIZE: Record<ExportFormat, number> = { csv: 1000, ndjson: 100 };

/**
 * Exports streaming at once in a process: on PostgreSQL each holds a database connection for as
 * long as its caller takes to read it, and the decision path shares the pool.
 */
export const EXPORTS_AT_ONCE = 2;

export interface DecisionLogExport {
  /** The name the file is given, also the audit entry's record_id. */
  fileName: string;
  /** The body: the CSV header line and the first page first, then a page at a time. */
  chunks: AsyncIterableIterator<string>;
}

const csvRow = (row: DecisionLogSummary, names: ReadonlyMap<string, string>) =>
  csvLine([
    row.decision_id,
    new Date(row.decided_at).toISOString(),
    row.endpoint,
    row.batch_id,
    row.token_id,
    tokenNameOf(row.token_id, names),
    row.subject_id,
    row.action,
    row.resource_type,
    row.resource_id,
    row.allow,
    row.reason_codes.join(';'),
    row.policy_revision,
    row.eval_us,
    row.duration_us,
    row.error?.code ?? null,
    row.shadow !== null,
  ]);

const ndjsonLine = (row: DecisionLogRow, names: ReadonlyMap<string, string>) =>
  `${JSON.stringify(toView(row, names))}\n`;

export class DecisionLogExports {
  readonly #db: Kysely<Database>;
  readonly #writer: AuditedWriter;
  readonly #cursor: boolean;
  #streaming = 0;

  /** cursor: read through a server-side cursor (PostgreSQL), else by keyset pages (scanDecisionLog). */
  constructor(db: Kysely<Database>, writer: AuditedWriter, cursor: boolean) {
    this.#db = db;
    this.#writer = writer;
    this.#cursor = cursor;
  }

  /**
   * Starts an export: reads the first page (a database that fails before anything is sent is a 503,
   * as for the list), records the export in the audit trail, and returns the body to stream. asked
   * is the filter as the caller gave it, for the audit entry.
   */
  async start(
    actor: Actor,
    format: ExportFormat,
    filter: DecisionLogMatch,
    asked: Record<string, unknown>,
  ): Promise<DecisionLogExport> {
    checkWindow(filter.since, filter.until);
    if (this.#streaming >= EXPORTS_AT_ONCE) {
      throw new AppError(
        429,
        'too_many_exports',
        `${EXPORTS_AT_ONCE} exports of the decision log are being streamed here already; try again when one ends`,
      );
    }
    this.#streaming += 1;
    const chunks = this.#chunks(format, filter, () => {
      this.#streaming -= 1;
    });
    // A read that fails ends the generator (its reads released, the count given back).
    const first = await unavailableWhenFailing(chunks.next());
    const takenAt = new Date();
    const fileName = `decisions-${takenAt.toISOString().replaceAll(/[-:]/g, '')}.${format}`;
    try {
      await unavailableWhenFailing(
        this.#writer.note(actor, {
          account_id: null,
          record_type: 'decision_log',
          record_id: fileName,
          // The user the export is about, when it is about one: ?user_id finds who exported their decisions.
          user_id: filter.subjectId ?? null,
          client_id: null,
          change: 'export',
          before: null,
          after: { format, filter: asked, taken_at: takenAt.toISOString() },
        }),
      );
    } catch (error) {
      await chunks.return(undefined);
      throw error;
    }
    return { fileName, chunks: startedWith(first.done === true ? '' : first.value, chunks) };
  }

  async *#chunks(format: ExportFormat, filter: DecisionLogMatch, done: () => void): AsyncGenerator<string> {
    const options = { cursor: this.#cursor, pageSize: PAGE_SIZE[format] };
    try {
      if (format === 'csv') {
        yield* this.#written(scanDecisionLogSummaries(this.#db, filter, options), csvLine(EXPORT_COLUMNS), csvRow);
      } else {
        yield* this.#written(scanDecisionLogRows(this.#db, filter, options), '', ndjsonLine);
      }
    } finally {
      done();
    }
  }

  /** Each page as text, the header before the first (alone when nothing matched). */
  async *#written<R extends { token_id: string | null }>(
    pages: AsyncGenerator<R[]>,
    header: string,
    line: (row: R, names: ReadonlyMap<string, string>) => string,
  ): AsyncGenerator<string> {
    const names = new Map<string, string>();
    const looked = new Set<string>([ENV_TOKEN_ID]);
    let before = header;
    for await (const rows of pages) {
      // The names of tokens not seen on an earlier page: a query only for a page that brings new ones.
      const fresh = [...new Set(rows.map((row) => row.token_id))].filter(
        (id): id is string => id !== null && !looked.has(id),
      );
      for (const id of fresh) looked.add(id);
      if (fresh.length > 0) for (const [id, name] of await tokenNames(this.#db, fresh)) names.set(id, name);
      yield before + rows.map((row) => line(row, names)).join('');
      before = '';
    }
    if (before !== '') yield before;
  }
}

/**
 * A generator already past its first chunk, as an iterator that gives that chunk first; return()
 * ends the generator (its reads released) whenever it is called.
 */
function startedWith(first: string, rest: AsyncGenerator<string>): AsyncIterableIterator<string> {
  let head: string | null = first === '' ? null : first;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (head === null) return rest.next();
      const value = head;
      head = null;
      return { value, done: false };
    },
    async return() {
      return rest.return(undefined);
    },
  };
}
