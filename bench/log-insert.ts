// `make bench-log-insert`: the decision-log insert rate PostgreSQL sustains alone, and what each row
// costs it. Rows made as the writer makes them (entryRow: real inputs of the benchmark data set with
// their facts, decided and masked by the local policy build) are written to a fresh migrated database
// of their own in batches of 1,000, 100 and 10, from 1 and from 2 writers at once, by the service's
// insertDecisionLogRows (unnamed, as the serving thread's Kysely path runs it), by the same statement
// named and so prepared once per connection (as the writer thread runs it), and by COPY into a
// staging table then INSERT … ON CONFLICT DO NOTHING (one transaction), the methods alternated across
// rounds. Per run: rows/s, PostgreSQL CPU µs per row (the
// backends serving the database, from /proc), WAL bytes per row (pg_walinspect: the records of this
// database's transactions only; the server is shared) and the writing process's own CPU per row. The
// statistics triggers on decision_log stay on, as in production.
//
//   node bench/log-insert.ts [--rounds N] [--rows N] [--json]   (make bench-log-insert; PostgreSQL at 127.0.0.1:5432)
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../service/data/connect.ts';
import { insertDecisionLogRows, maintainDecisionLogPartitions } from '../service/data/decision-log.ts';
import { insertStatements } from '../service/data/decision-log-statements.ts';
import { migrateToLatest } from '../service/data/migrate.ts';
import type { NewDecisionLogRow } from '../service/data/schema.ts';
import { entryRow, type DecisionLogEntry, type LogLogger } from '../service/domain/decision-log/rows.ts';
import { FactStore } from '../service/domain/facts.ts';
import { PolicyInputBuilder } from '../service/domain/policy-input.ts';
import { PolicyEngine } from '../service/policy/engine.ts';
import { createPostgresDatabase } from '../test/helpers/database.ts';
import { ensureDataset } from './dataset.ts';
import { machine } from './harness.ts';
import { processTree } from './processes.ts';
import { requestMix } from './requests.ts';
import { benchDatabaseUrl, ensureDatabase, mapLimit } from './setup.ts';
import { median } from './policy-eval.ts';

// --- What PostgreSQL spends, from /proc -------------------------------------------------------------

/** CPU nanoseconds (schedstat, else utime+stime) and storage bytes of one process so far. */
export interface Counters {
  cpuNs: number;
  readBytes: number;
  writeBytes: number;
}

export function processCounters(pid: number): Counters | null {
  try {
    let cpuNs: number;
    try {
      cpuNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuNs = (Number(fields[11]) + Number(fields[12])) * 10_000_000; // USER_HZ 100
    }
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
    return { cpuNs, readBytes: field('read_bytes'), writeBytes: field('write_bytes') };
  } catch {
    return null; // gone, or not ours to read
  }
}

/** A process of the PostgreSQL server, named by its title (`postgres: 15/main: <title>`). */
export interface PostgresProcess {
  pid: number;
  title: string;
  /** The database a backend serves; null for the server's own processes. */
  database: string | null;
  /** checkpointer, background writer, walwriter, autovacuum …, postmaster: work shared by every database. */
  shared: boolean;
}

const SHARED_TITLES = /^(checkpointer|background writer|walwriter|autovacuum|archiver|logical replication|stats)/;

function describe(pid: number, postmaster: number): PostgresProcess | null {
  let title: string;
  try {
    title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return null;
  }
  if (pid === postmaster) return { pid, title, database: null, shared: true };
  // A backend's title is "<user> <database> <host(port)> <activity>"; a parallel worker names its leader.
  const rest = title.replace(/^postgres: (?:[^:]+: )?/, '');
  if (SHARED_TITLES.test(rest)) return { pid, title: rest, database: null, shared: true };
  return {
    pid,
    title: rest,
    database: rest.startsWith('parallel worker') ? null : (rest.split(' ')[1] ?? null),
    shared: false,
  };
}

/** The postmaster's pid, as the server tells it (the parent of the asking connection's backend). */
export async function postmasterPid(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const stat = readFileSync(`/proc/${rows[0]?.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

export interface PostgresSpend {
  cpuS: number;
  readBytes: number;
  writeBytes: number;
  processes: number;
}

/**
 * Follows every process of the PostgreSQL server from start() to stop(), sampling /proc every
 * 200 ms so a backend that comes or goes meanwhile is counted for the time it was seen (one that
 * started during the run counts from nothing). What belongs to whom is decided at the end.
 */
export class PostgresMeter {
  readonly #postmaster: number;
  readonly #seen = new Map<number, { process: PostgresProcess; first: Counters; last: Counters }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(postmaster: number) {
    this.#postmaster = postmaster;
  }

  #sample(starting: boolean): void {
    for (const pid of processTree(this.#postmaster)) {
      const now = processCounters(pid);
      if (now === null) continue;
      const known = this.#seen.get(pid);
      if (known !== undefined) {
        known.last = now;
        continue;
      }
      const process = describe(pid, this.#postmaster);
      if (process === null) continue;
      const zero = { cpuNs: 0, readBytes: 0, writeBytes: 0 };
      this.#seen.set(pid, { process, first: starting ? now : zero, last: now });
    }
  }

  start(): void {
    this.#seen.clear();
    this.#sample(true);
    this.#timer = setInterval(() => this.#sample(false), 200);
  }

  /** Stops sampling; what the processes chosen by which spent in between. */
  stop(): (which: (process: PostgresProcess) => boolean) => PostgresSpend {
    clearInterval(this.#timer);
    this.#sample(false);
    const seen = [...this.#seen.values()];
    return (which) => {
      const spend = { cpuS: 0, readBytes: 0, writeBytes: 0, processes: 0 };
      for (const { process, first, last } of seen) {
        if (!which(process)) continue;
        spend.cpuS += (last.cpuNs - first.cpuNs) / 1e9;
        spend.readBytes += last.readBytes - first.readBytes;
        spend.writeBytes += last.writeBytes - first.writeBytes;
        spend.processes += 1;
      }
      return spend;
    };
  }
}

export interface WalSpend {
  /** WAL of this database's transactions (and of its pages outside any), full-page images included. */
  bytes: number;
  fpiBytes: number;
  /** Every record between the two positions, whoever wrote it. */
  serverBytes: number;
  /** True when pg_walinspect attributed it; false: only the server's total was known. */
  attributed: boolean;
}

/** Makes pg_walinspect available in the database client is connected to; false when it cannot be. */
export async function enableWalInspect(client: pg.ClientBase): Promise<boolean> {
  try {
    await client.query('create extension if not exists pg_walinspect');
    return true;
  } catch {
    return false;
  }
}

/**
 * Keeps the server's WAL from now on until release, so a checkpoint meanwhile (the server is shared:
 * anyone's writes may bring one) does not recycle what walSpend is to read: a temporary physical
 * replication slot of client's session, gone with it at the latest. Null when it cannot be made.
 */
export async function holdWal(client: pg.ClientBase): Promise<{ release(): Promise<void> } | null> {
  const name = `clearance_bench_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  try {
    await client.query('select pg_create_physical_replication_slot($1, true, true)', [name]);
  } catch {
    return null;
  }
  return { release: async () => void (await client.query('select pg_drop_replication_slot($1)', [name])) };
}

export const walPosition = async (client: pg.ClientBase): Promise<string> =>
  (await client.query<{ lsn: string }>('select pg_current_wal_flush_lsn()::text as lsn')).rows[0]?.lsn as string;

/**
 * The WAL written between two positions by the transactions that touched the database of oid
 * (their records, commit records included) and by records of its pages outside any transaction.
 */
export async function walSpend(
  client: pg.ClientBase,
  from: string,
  to: string,
  databaseOid: number,
  inspect: boolean,
): Promise<WalSpend> {
  const { rows } = await client.query<{ total: string }>(
    'select pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::text as total',
    [from, to],
  );
  const serverBytes = Number(rows[0]?.total ?? 0);
  if (!inspect || serverBytes === 0) return { bytes: serverBytes, fpiBytes: 0, serverBytes, attributed: inspect };
  const { rows: spent } = await client.query<{ bytes: string | null; fpi: string | null }>(
    `with r as materialized (
       select xid, record_length, fpi_length, block_ref ~ ('rel \\d+/' || $3 || '/') as ours
       from pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)),
     x as (select distinct xid from r where ours and xid <> 0)
     select sum(record_length)::text as bytes, sum(fpi_length)::text as fpi
     from r where ours or xid in (select xid from x)`,
    [from, to, databaseOid],
  );
  return {
    bytes: Number(spent[0]?.bytes ?? 0),
    fpiBytes: Number(spent[0]?.fpi ?? 0),
    serverBytes,
    attributed: true,
  };
}

// --- COPY ---------------------------------------------------------------------------------------------

const COLUMNS = [
  'decision_id',
  'decided_at',
  'endpoint',
  'batch_id',
  'token_id',
  'subject_id',
  'action',
  'resource_type',
  'resource_id',
  'allow',
  'reason_codes',
  'input',
  'result',
  'masked',
  'error',
  'policy_revision',
  'shadow',
  'eval_us',
  'duration_us',
] as const satisfies ReadonlyArray<keyof NewDecisionLogRow>;
const COLUMN_LIST = COLUMNS.join(', ');

/** A value as COPY's text format takes it: backslash, newline, carriage return and tab escaped. */
const field = (text: string) => (/[\\\n\r\t]/.test(text) ? text.replace(/[\\\n\r\t]/g, escapeChar) : text);
const escapeChar = (c: string) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t');
/** An array literal, each element quoted (codes are [a-z_]+, but a literal must not depend on it). */
const arrayLiteral = (values: string[]) => `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

/** The rows as COPY FROM STDIN text, the columns in COLUMNS' order; a JSON null input is stored as null. */
export function copyText(rows: NewDecisionLogRow[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    const decidedAt = row.decided_at instanceof Date ? row.decided_at.toISOString() : String(row.decided_at);
    const text = (value: string | null | undefined) => (value == null ? '\\N' : field(value));
    const input = row.input == null || row.input === 'null' ? null : (row.input as string);
    lines.push(
      [
        row.decision_id,
        decidedAt,
        row.endpoint,
        row.batch_id ?? '\\N',
        text(row.token_id),
        text(row.subject_id),
        text(row.action),
        text(row.resource_type),
        text(row.resource_id),
        row.allow == null ? '\\N' : row.allow ? 't' : 'f',
        field(arrayLiteral(row.reason_codes as string[])),
        text(input),
        text(row.result as string),
        text(row.masked as string),
        text(row.error),
        text(row.policy_revision),
        text(row.shadow),
        row.eval_us == null ? '\\N' : String(row.eval_us),
        String(row.duration_us),
      ].join('\t'),
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** What pg's connection offers a submittable query for COPY FROM STDIN (not in its types). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * COPY … FROM STDIN on a pg client without a streaming package: a submittable query (pg's own
 * extension point, as pg-copy-streams is one) that sends the whole payload once the server asks for
 * it. Resolves with the rows copied.
 */
class CopyIn implements pg.Submittable {
  readonly #text: string;
  readonly #payload: Buffer;
  #rows = 0;
  #error: Error | null = null;
  readonly done: Promise<number>;
  #settle!: (error: Error | null) => void;

  constructor(text: string, payload: Buffer) {
    this.#text = text;
    this.#payload = payload;
    this.done = new Promise((resolve, reject) => {
      this.#settle = (error) => (error === null ? resolve(this.#rows) : reject(error));
    });
  }

  submit(connection: pg.Connection): void {
    (connection as unknown as CopyConnection).query(this.#text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    // 64 KiB messages, as pg-copy-streams sends: the server reads COPY data a message at a time.
    for (let at = 0; at < this.#payload.length; at += 65_536) {
      connection.sendCopyFromChunk(this.#payload.subarray(at, at + 65_536));
    }
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text: string }): void {
    this.#rows = Number(/^COPY (\d+)/.exec(message.text)?.[1] ?? 0);
  }

  handleError(error: Error): void {
    this.#error = error;
  }

  handleReadyForQuery(): void {
    this.#settle(this.#error);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Where COPY lands before the insert: a temporary table per transaction, or one per connection kept empty. */
export type Staging = 'transaction' | 'session';
const SESSION_STAGING = new WeakSet<pg.ClientBase>();

/**
 * Writes rows as insertDecisionLogRows does (idempotent: an entry already present is skipped, so
 * spill replays may repeat), in one transaction: COPY into a staging table, then INSERT … SELECT
 * … ON CONFLICT DO NOTHING, one statement, so the statistics triggers fire once for the batch.
 * staging 'session' keeps one temporary table per connection (ON COMMIT DELETE ROWS) instead of
 * creating and dropping one per batch.
 */
export async function copyDecisionLogRows(
  client: pg.ClientBase,
  rows: NewDecisionLogRow[],
  staging: Staging = 'session',
): Promise<void> {
  if (rows.length === 0) return;
  const table = staging === 'session' ? 'decision_log_staging' : 'decision_log_batch';
  const create = `create temp table ${staging === 'session' ? 'if not exists ' : ''}${table} (like decision_log including defaults) on commit ${staging === 'session' ? 'delete rows' : 'drop'}`;
  await client.query(staging === 'transaction' || !SESSION_STAGING.has(client) ? `begin; ${create}` : 'begin');
  try {
    const copy = client.query(new CopyIn(`copy ${table} (${COLUMN_LIST}) from stdin`, Buffer.from(copyText(rows))));
    await copy.done;
    await client.query(
      `insert into decision_log (${COLUMN_LIST}) select ${COLUMN_LIST} from ${table} on conflict (decision_id, decided_at) do nothing; commit`,
    );
    if (staging === 'session') SESSION_STAGING.add(client);
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

// --- The rows -----------------------------------------------------------------------------------------

const log: LogLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: (obj, message) => process.stderr.write(`log-insert: ${message} ${JSON.stringify(obj)}\n`),
};

/**
 * Log rows as the writer makes them (entryRow, masks by the log policy) from the request mix of the
 * benchmark data set: each input carries its facts, assembled as the service does, and the local
 * policy build's answer. Each run writes copies of them under new decision ids.
 */
export async function templateRows(count: number, say: (message: string) => void): Promise<NewDecisionLogRow[]> {
  await ensureDatabase(benchDatabaseUrl);
  const handle = await openDatabase({ databaseUrl: benchDatabaseUrl, dataDir: null });
  try {
    const dataset = await ensureDataset(handle.migrationDb);
    say(`data set ${dataset.version} ${dataset.generated ? 'generated' : 'reused'}`);
    const mix = await requestMix(handle.db, count);
    const builder = new PolicyInputBuilder(new FactStore(handle, 0));
    const inputs = await mapLimit(mix, 8, (request) => builder.build(request));
    const engine = PolicyEngine.load('.build/policy');
    return mix.map((request, i) => {
      const input = inputs[i];
      const started = performance.now();
      const result = engine.decide(input);
      const evalUs = Math.round((performance.now() - started) * 1000);
      const entry: DecisionLogEntry = {
        decisionId: randomUUID(),
        decidedAt: new Date(),
        endpoint: 'decide',
        batchId: null,
        tokenId: 'bench-log-insert',
        subjectId: request.subject.id,
        action: request.action,
        resourceType: request.resource.type,
        resourceId: request.resource.id ?? null,
        input,
        result: { allow: result.allow, reasons: result.reasons },
        allow: result.allow,
        reasonCodes: result.reasons.map((r) => r.code),
        error: null,
        policyRevision: engine.revision,
        shadow: null,
        evalUs,
        durationUs: evalUs + 150,
      };
      return entryRow(entry, (parts) => engine.logMasks(parts), log);
    });
  } finally {
    await handle.close();
  }
}

// --- The benchmark ------------------------------------------------------------------------------------

export const METHODS = [
  'insert',
  'insert, prepared',
  'copy, staging per batch',
  'copy, staging per connection',
] as const;
export type Method = (typeof METHODS)[number];
/**
 * Batches of 1,000 (the writer's most, under load) and of 100; and of 10, what each writer commits at
 * a few hundred decisions a second (a tenth as many rows: each is a commit and its fsync).
 */
const SHAPES = [
  { batch: 1000, writers: 1, share: 1 },
  { batch: 1000, writers: 2, share: 1 },
  { batch: 100, writers: 1, share: 1 },
  { batch: 100, writers: 2, share: 1 },
  { batch: 10, writers: 1, share: 0.1 },
  { batch: 10, writers: 2, share: 0.1 },
];

interface Run {
  round: number;
  method: Method;
  batch: number;
  writers: number;
  rows: number;
  seconds: number;
  rowsPerS: number;
  /** The backends serving the benchmark's database. */
  pgCpuUsPerRow: number;
  pgWriteBytesPerRow: number;
  walBytesPerRow: number;
  fpiBytesPerRow: number;
  /** The writing process (this one): encoding, the driver, the socket. */
  clientCpuUsPerRow: number;
  /** checkpointer, background writer, WAL writer, postmaster: shared with every database on the server. */
  sharedCpuS: number;
  /** Backends of other databases meanwhile: other people's work on the shared server. */
  otherCpuS: number;
  serverWalBytes: number;
}

export async function runLogInsertBench(options: { rounds?: number; rows?: number } = {}) {
  const rounds = options.rounds ?? 3;
  const rowsPerRun = options.rows ?? 20_000;
  const say = (message: string) => process.stderr.write(`log-insert: ${message}\n`);
  const templates = await templateRows(2000, say);
  const inputBytes = templates.map((row) => (row.input as string | null)?.length ?? 0);
  const rowBytes = templates.map((row) => copyText([row]).length);
  say(
    `${templates.length} distinct rows: input median ${median(inputBytes)} bytes, row median ${median(rowBytes)} bytes`,
  );

  const before = machine();
  const created = await createPostgresDatabase();
  const handle = await openDatabase({ databaseUrl: created.url, dataDir: null });
  const writers = [new pg.Client({ connectionString: created.url }), new pg.Client({ connectionString: created.url })];
  const monitor = new pg.Client({ connectionString: created.url });
  try {
    await migrateToLatest(handle.migrationDb);
    await maintainDecisionLogPartitions(handle.db, { now: new Date(), daysAhead: 1, retentionDays: 30 });
    for (const client of [...writers, monitor]) await client.connect();
    // The pool's two connections opened before any run, so no run pays a backend's start.
    await Promise.all([1, 2].map(() => sql`select pg_sleep(0.05)`.execute(handle.longDb)));
    const inspect = await enableWalInspect(monitor);
    if (!inspect) say("pg_walinspect unavailable: WAL is the whole server's, other work included");
    const { rows: self } = await monitor.query<{ pid: number; oid: number; name: string }>(
      'select pg_backend_pid() as pid, oid::int as oid, datname as name from pg_database where datname = current_database()',
    );
    const { pid: monitorPid, oid, name } = self[0] as { pid: number; oid: number; name: string };
    const meter = new PostgresMeter(await postmasterPid(monitor));

    const write: Record<Method, (writer: number, rows: NewDecisionLogRow[]) => Promise<void>> = {
      insert: (_, rows) => insertDecisionLogRows(handle.longDb, rows),
      // As the writer thread runs it: the named statement, prepared once per connection.
      'insert, prepared': async (w, rows) => {
        for (const statement of insertStatements(rows)) await (writers[w] as pg.Client).query(statement);
      },
      'copy, staging per batch': (w, rows) => copyDecisionLogRows(writers[w] as pg.Client, rows, 'transaction'),
      'copy, staging per connection': (w, rows) => copyDecisionLogRows(writers[w] as pg.Client, rows, 'session'),
    };
    const runs: Run[] = [];
    let written = 0;
    for (let round = 0; round < rounds; round++) {
      for (const shape of SHAPES) {
        // Each round starts with another method, so none always runs first on a warming machine.
        for (let m = 0; m < METHODS.length; m++) {
          const method = METHODS[(round + m) % METHODS.length] as Method;
          const now = Date.now();
          const count = Math.round(rowsPerRun * shape.share);
          const rows = Array.from({ length: count }, (_, i) => ({
            ...(templates[i % templates.length] as NewDecisionLogRow),
            decision_id: randomUUID(),
            decided_at: new Date(now - count + i),
          }));
          const batches: NewDecisionLogRow[][] = [];
          for (let at = 0; at < rows.length; at += shape.batch) batches.push(rows.slice(at, at + shape.batch));
          const held = inspect ? await holdWal(monitor) : null;
          const from = await walPosition(monitor);
          meter.start();
          const cpu = process.cpuUsage();
          const started = performance.now();
          let next = 0;
          await Promise.all(
            Array.from({ length: shape.writers }, async (_, w) => {
              while (next < batches.length) await write[method](w, batches[next++] as NewDecisionLogRow[]);
            }),
          );
          const seconds = (performance.now() - started) / 1000;
          const clientCpu = process.cpuUsage(cpu);
          const spent = meter.stop();
          const wal = await walSpend(monitor, from, await walPosition(monitor), oid, held !== null).finally(() =>
            held?.release(),
          );
          written += count;
          const ours = spent((p) => p.database === name && p.pid !== monitorPid);
          const run: Run = {
            round: round + 1,
            method,
            batch: shape.batch,
            writers: shape.writers,
            rows: count,
            seconds,
            rowsPerS: count / seconds,
            pgCpuUsPerRow: (ours.cpuS * 1e6) / count,
            pgWriteBytesPerRow: ours.writeBytes / count,
            walBytesPerRow: wal.bytes / count,
            fpiBytesPerRow: wal.fpiBytes / count,
            clientCpuUsPerRow: (clientCpu.user + clientCpu.system) / count,
            sharedCpuS: spent((p) => p.shared).cpuS,
            otherCpuS: spent((p) => !p.shared && p.database !== name).cpuS,
            serverWalBytes: wal.serverBytes,
          };
          runs.push(run);
          say(
            `round ${run.round}, batch ${shape.batch}, ${shape.writers} writer(s), ${method}: ${Math.round(run.rowsPerS)} rows/s, ` +
              `PostgreSQL ${run.pgCpuUsPerRow.toFixed(1)} µs/row, WAL ${Math.round(run.walBytesPerRow)} B/row ` +
              `(FPI ${Math.round(run.fpiBytesPerRow)}), writer ${run.clientCpuUsPerRow.toFixed(1)} µs/row; ` +
              `other backends ${run.otherCpuS.toFixed(2)} CPU s`,
          );
        }
      }
    }
    // Every row went in once, and the statistics triggers counted each.
    const { rows: check } = await monitor.query<{ entries: number; tallied: number }>(
      'select (select count(*) from decision_log)::int as entries, (select coalesce(sum(n), 0) from decision_log_minute_counts)::int as tallied',
    );
    const { entries, tallied } = check[0] as { entries: number; tallied: number };
    if (entries !== written || tallied !== written)
      throw new Error(`wrote ${written} rows, the log holds ${entries} and its tallies ${tallied}`);
    // What a row occupies once written: its partition's heap, TOAST and indexes, and the tallies.
    const { rows: sizes } = await monitor.query<{ log: string; tallies: string }>(
      `select (select sum(pg_total_relation_size(inhrelid)) from pg_inherits where inhparent = 'decision_log'::regclass)::text as log,
              (select sum(pg_total_relation_size(t::regclass)) from unnest(array['decision_log_minute_counts',
                'decision_log_minute_reasons', 'decision_log_minute_times', 'decision_log_hour_times']) as t)::text as tallies`,
    );
    const stored = { logBytesPerRow: Number(sizes[0]?.log) / entries, tallyBytes: Number(sizes[0]?.tallies) };
    const summary = SHAPES.flatMap((shape) =>
      METHODS.map((method) => {
        const these = runs.filter((r) => r.method === method && r.batch === shape.batch && r.writers === shape.writers);
        return {
          method,
          batch: shape.batch,
          writers: shape.writers,
          rows: these[0]?.rows ?? 0,
          runs: these.length,
          rowsPerS: median(these.map((r) => r.rowsPerS)),
          pgCpuUsPerRow: median(these.map((r) => r.pgCpuUsPerRow)),
          walBytesPerRow: median(these.map((r) => r.walBytesPerRow)),
          fpiBytesPerRow: median(these.map((r) => r.fpiBytesPerRow)),
          pgWriteBytesPerRow: median(these.map((r) => r.pgWriteBytesPerRow)),
          clientCpuUsPerRow: median(these.map((r) => r.clientCpuUsPerRow)),
        };
      }),
    );
    return {
      before,
      after: machine(),
      rowsPerRun,
      rounds,
      inputBytesMedian: median(inputBytes),
      rowBytesMedian: median(rowBytes),
      walAttributed: inspect,
      entries,
      stored,
      runs,
      summary,
    };
  } finally {
    for (const client of [...writers, monitor]) await client.end().catch(() => undefined);
    await handle.close();
    await created.drop();
  }
}

type Result = Awaited<ReturnType<typeof runLogInsertBench>>;

export function formatLogInsertBench(r: Result): string {
  const f = (n: number) => Math.round(n).toLocaleString('en');
  const vs = (value: number, base: number) =>
    `${value >= base ? '+' : ''}${(((value - base) / base) * 100).toFixed(0)}%`;
  const lines = [
    `decision log inserts: node ${r.before.node}, ${r.before.cpu} (${r.before.cores} cores), load ${r.before.loadavg.join(' ')} before, ${r.after.loadavg.join(' ')} after`,
    `  ${r.rounds} rounds of ${f(r.rowsPerRun)} rows per method and shape (batches of 10: a tenth), methods alternated; input median ${r.inputBytesMedian} B, row median ${r.rowBytesMedian} B as COPY text`,
    `  PostgreSQL CPU: the backends of the benchmark's database (/proc); WAL: ${r.walAttributed ? "that database's transactions (pg_walinspect)" : 'the whole server (no pg_walinspect)'}; medians:`,
    '  batch  writers  method                          rows/s   PG µs/row  WAL B/row (FPI)  PG write B/row  writer µs/row',
  ];
  for (const s of r.summary) {
    const base = r.summary.find((b) => b.method === 'insert' && b.batch === s.batch && b.writers === s.writers);
    const against =
      base === undefined || s.method === 'insert'
        ? ''
        : `  (rows/s ${vs(s.rowsPerS, base.rowsPerS)}, PG CPU ${vs(s.pgCpuUsPerRow, base.pgCpuUsPerRow)})`;
    lines.push(
      `  ${String(s.batch).padStart(5)}  ${String(s.writers).padStart(7)}  ${s.method.padEnd(30)} ${f(s.rowsPerS).padStart(7)}  ${s.pgCpuUsPerRow.toFixed(1).padStart(10)}  ${`${f(s.walBytesPerRow)} (${f(s.fpiBytesPerRow)})`.padStart(15)}  ${f(s.pgWriteBytesPerRow).padStart(14)}  ${s.clientCpuUsPerRow.toFixed(1).padStart(13)}${against}`,
    );
  }
  lines.push(
    `  the log held ${f(r.entries)} entries at the end, each tallied once by the statistics triggers; ` +
      `${f(r.stored.logBytesPerRow)} B on disk per entry (heap, TOAST, indexes), the tallies ${(r.stored.tallyBytes / 2 ** 20).toFixed(1)} MiB`,
  );
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { rounds: { type: 'string' }, rows: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const result = await runLogInsertBench({
    ...(values.rounds === undefined ? {} : { rounds: Number(values.rounds) }),
    ...(values.rows === undefined ? {} : { rows: Number(values.rows) }),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatLogInsertBench(result));
}
