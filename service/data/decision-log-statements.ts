// The decision log's writes as SQL text and parameters, without Kysely: the serving thread runs
// them through Kysely (decision-log.ts), the writer thread on a pg pool of its own
// (decision-log-worker.ts), which then need not load Kysely (README, "Memory").
import type { NewDecisionLogRow } from './schema.ts';

/**
 * One statement: text with $n placeholders, and their values; a name where the writer thread
 * prepares it once per connection (the serving thread's Kysely path runs it unnamed).
 */
export interface Statement {
  name?: string;
  text: string;
  values: unknown[];
}

/** Rows per INSERT statement. */
export const ROWS_PER_STATEMENT = 1000;

const column = <K extends keyof NewDecisionLogRow>(rows: NewDecisionLogRow[], key: K) =>
  rows.map((row) => row[key] ?? null);

/** Already-serialized JSON values as one JSON array, by concatenation: nothing is escaped again. */
const jsonArray = (values: Array<string | null>) => `[${values.map((v) => v ?? 'null').join(',')}]`;

const INSERT = `
  insert into decision_log (decision_id, decided_at, endpoint, batch_id, token_id, subject_id, action, resource_type, resource_id,
                            allow, reason_codes, input, result, masked, error, policy_revision, shadow, eval_us, duration_us)
  select x.d, x.t, x.e, x.b, x.tk, x.s, x.a, x.rt, x.ri, x.al, string_to_array(x.rc, ' '),
         case when json_typeof(i.value) = 'null' then null else i.value end, r.value, x.m::jsonb, x.er::jsonb, x.pr, x.sh::jsonb, x.ev, x.du
  from unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
              $10::boolean[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::float8[], $17::float8[])
         with ordinality as x(d, t, e, b, tk, s, a, rt, ri, al, rc, m, er, pr, sh, ev, du, n)
  join json_array_elements($18::json) with ordinality as i(value, n) on i.n = x.n
  join json_array_elements($19::json) with ordinality as r(value, n) on r.n = x.n
  on conflict (decision_id, decided_at) do nothing`;

/**
 * The statements that write rows, ROWS_PER_STATEMENT at a time (more than one: the caller runs
 * them in one transaction). Each column travels as one array unnested in the database (a short
 * statement whatever the number of rows, several times faster than a VALUES list), and the large
 * JSON columns as one JSON array, so megabyte inputs are not escaped again. Idempotent: an entry
 * already present (a retry after a lost acknowledgement, a replayed spill file) is skipped.
 */
export function insertStatements(rows: NewDecisionLogRow[]): Statement[] {
  const statements: Statement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    statements.push({
      // Parsed and analysed once per connection instead of on every write, which is most of a small
      // batch's fixed cost to PostgreSQL (BENCHMARKS.md, "Scaling out").
      name: 'clearance_decision_log_insert',
      text: INSERT,
      values: [
        column(chunk, 'decision_id'),
        column(chunk, 'decided_at'),
        column(chunk, 'endpoint'),
        column(chunk, 'batch_id'),
        column(chunk, 'token_id'),
        column(chunk, 'subject_id'),
        column(chunk, 'action'),
        column(chunk, 'resource_type'),
        column(chunk, 'resource_id'),
        column(chunk, 'allow'),
        // Reason codes are [a-z_]+, so a space-separated text per row carries a ragged array.
        chunk.map((row) => row.reason_codes.join(' ')),
        column(chunk, 'masked'),
        column(chunk, 'error'),
        column(chunk, 'policy_revision'),
        column(chunk, 'shadow'),
        column(chunk, 'eval_us'),
        column(chunk, 'duration_us'),
        jsonArray(column(chunk, 'input') as Array<string | null>),
        jsonArray(column(chunk, 'result') as string[]),
      ],
    });
  }
  return statements;
}

/** Records that entries written as answered were refused after all (their answer was never sent). */
export function refusedStatement(
  keys: Array<{ decision_id: string; decided_at: Date | string }>,
  error: { code: string; message: string },
): Statement {
  return {
    text: `
      update decision_log set allow = false, reason_codes = array[$1::text]::text[], error = $2::jsonb
      from unnest($3::uuid[], $4::timestamptz[]) as k(id, at)
      where decision_log.decision_id = k.id and decision_log.decided_at = k.at`,
    values: [error.code, JSON.stringify(error), keys.map((k) => k.decision_id), keys.map((k) => k.decided_at)],
  };
}
