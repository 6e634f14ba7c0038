// The decision log's writer thread (started by decision-log-thread.ts): builds the rows of the
// entries the serving thread encoded (masks applied, made storable, JSON-encoded) and writes them
// to PostgreSQL on a pool of its own, with the same row isolation as on the serving thread
// (storeRows). What it logs and counts goes back to the serving thread, whose log and metrics
// they are; every request is answered, ok or with the error, which the serving thread's writer
// retries.
import { flushCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { decodedRow, type LogLogger, refusedRow } from '../domain/decision-log/rows.ts';
import type { EncodedItem } from '../domain/decision-log/queue.ts';
import { storeRows, type RowReporting } from '../domain/decision-log/writer.ts';
import { insertStatements, refusedStatement, type Statement } from './decision-log-statements.ts';
import { type ThreadReport, type ThreadRequest, WRITER_APPLICATION_NAME } from './decision-log-thread.ts';
import { connectBounded, LONG_QUERY_TIMEOUT_MS, openPool } from './pg-pool.ts';
import type { NewDecisionLogRow } from './schema.ts';

const port = parentPort;
if (port === null) throw new Error('decision-log-worker.ts runs as a worker thread');
const { databaseUrl } = workerData as { databaseUrl: string };
// This thread's modules into Node's compile cache (server.ts), when it is on: the next thread that
// starts finds them there and does not load the TypeScript stripper.
flushCompileCache();

const report = (message: ThreadReport) => port.postMessage(message);

/** An error as it crosses back: what the writer and its log need (message, SQLSTATE or errno code). */
const plain = (error: unknown) => {
  const { message, name, code } = error as { message?: unknown; name?: unknown; code?: unknown };
  return {
    name: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
};

/** Objects logged here cross as plain data: an error as its name, message and code. */
const loggable = (obj: object) =>
  Object.fromEntries(Object.entries(obj).map(([key, value]) => [key, value instanceof Error ? plain(value) : value]));

const log: LogLogger = {
  info: (obj, msg) => report({ log: 'info', obj: loggable(obj), msg }),
  warn: (obj, msg) => report({ log: 'warn', obj: loggable(obj), msg }),
  error: (obj, msg) => report({ log: 'error', obj: loggable(obj), msg }),
};
const reporting: RowReporting = {
  metrics: {
    logUnstorable: { inc: () => report({ count: 'logUnstorable' }) },
    logIsolationWrites: { inc: () => report({ count: 'logIsolationWrites' }) },
  },
  log,
};

const named = new URL(databaseUrl);
if (!named.searchParams.has('application_name')) named.searchParams.set('application_name', WRITER_APPLICATION_NAME);

const pool = openPool(named.toString(), (error) =>
  log.warn({ err: error }, 'decision log writer thread: database connection lost'),
);

/**
 * Runs statements on one connection, each bounded as the serving thread's longDb bounds them;
 * more than one in a transaction, as decision-log.ts runs them through Kysely.
 */
async function run(statements: Statement[]): Promise<void> {
  if (statements.length === 0) return;
  const client = await connectBounded(pool, LONG_QUERY_TIMEOUT_MS);
  let broken = false;
  try {
    if (statements.length === 1) {
      const [only] = statements as [Statement];
      await client.query(only.text, only.values, only.name);
      return;
    }
    await client.query('begin', []);
    try {
      for (const { text, values, name } of statements) await client.query(text, values, name);
      await client.query('commit', []);
    } catch (error) {
      // A connection whose statement ran out of time would queue the rollback behind it: it is
      // destroyed instead, which ends the transaction as surely.
      if (!client.timedOut)
        await client.query('rollback', []).catch(() => {
          broken = true;
        });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}

const write = (rows: NewDecisionLogRow[]) => run(insertStatements(rows));

const rowOf = (item: EncodedItem) => {
  if ('row' in item) return item.row;
  const row = decodedRow(item.entry, log);
  return item.refused === undefined ? row : refusedRow(row, item.refused);
};

async function handle(request: ThreadRequest): Promise<void> {
  switch (request.op) {
    case 'encoded':
      return storeRows({ write }, request.items.map(rowOf), reporting);
    case 'rows':
      return write(request.rows);
    case 'refused':
      return request.keys.length === 0 ? undefined : run([refusedStatement(request.keys, request.refusal)]);
  }
}

port.on('message', (message: ThreadRequest | 'close') => {
  if (message === 'close') {
    // Writes under way are given up (the serving thread has spilled or will replay them).
    void pool.end().finally(() => port.close());
    return;
  }
  handle(message).then(
    () => report({ id: message.id }),
    (error: unknown) => report({ id: message.id, error: plain(error) }),
  );
});
