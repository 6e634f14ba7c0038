// Lets Kysely's own PostgreSQL dialect drive the embedded engine. PGlite is a single
// connection, so this "pool" lends its one client to one caller at a time and queues the
// rest: a transaction holds the client from begin to commit, as with a real pool.
import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * PGlite's own default is PostgreSQL's, 128MB, which it touches at start: a third of the process's
 * idle RSS. The embedded engine serves one process's trial or test data, and the files are read
 * through the operating system's cache anyway, so a quarter of that is plenty.
 */
export const PGLITE_SHARED_BUFFERS_DEFAULT = '32MB';

export class PGlitePool implements PostgresPool {
  readonly options = {};
  readonly #pg: PGlite;
  // Kysely keeps one connection object per client it is given, so there is exactly one client.
  readonly #client: PostgresPoolClient;
  #tail: Promise<void> = Promise.resolve();
  #releaseLease: (() => void) | null = null;

  constructor(pg: PGlite) {
    this.#pg = pg;
    const client = {
      query: async <R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
        const result = await this.#pg.query<R>(sql, parameters as unknown[]);
        const { command, rowCount } = result as { command?: PostgresQueryResult<R>['command']; rowCount?: number };
        return {
          command: command ?? 'SELECT',
          rowCount: rowCount ?? result.affectedRows ?? result.rows.length,
          rows: result.rows,
        };
      },
      release: () => {
        const release = this.#releaseLease;
        this.#releaseLease = null;
        release?.();
      },
    };
    // Kysely only uses the cursor overload of query() when a cursor class is configured; none is.
    this.#client = client as PostgresPoolClient;
  }

  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void;
    const lease = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => lease);
    await previous;
    this.#releaseLease = release;
    return this.#client;
  }

  async end(): Promise<void> {
    await this.#tail;
    await this.#pg.close();
  }
}
