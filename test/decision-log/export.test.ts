// Operators export the filtered decision log as a file: CSV (RFC 4180, cells a spreadsheet would run
// as formulas defused) or NDJSON (each entry as GET shows it), streamed from the database with flat
// memory, recorded in the audit trail; bad filters and tokens without the logs scope are refused,
// and a client that goes away frees what its export held.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql, type Kysely } from 'kysely';
import t from 'tap';
import { insertDecisionLogRows } from '../../service/data/decision-log.ts';
import type { Database } from '../../service/data/schema.ts';
import { insertToken } from '../../service/data/tokens.ts';
import { EXPORT_COLUMNS, EXPORTS_AT_ONCE } from '../../service/domain/decision-log-export.ts';
import { generateToken, hashSecret } from '../../service/domain/tokens.ts';
import { buildTestApp, eventually } from '../helpers/app.ts';
import { TEST_ENGINE } from '../helpers/database.ts';
import { asInsert, filterCases, logRow, newestFirst, spreadRows } from '../helpers/decision-log.ts';
import { makeToken } from '../helpers/fixtures.ts';

const tokenIdOf = (token: string) => token.split('_')[1] as string;

/** RFC 4180, strictly: a quote, CR or LF outside a quoted field is an error, every line ends CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"' && field === '') {
      let end = i + 1;
      for (;;) {
        const quote = text.indexOf('"', end);
        if (quote < 0) throw new Error(`unterminated quoted field at ${i}`);
        if (text[quote + 1] === '"') {
          field += text.slice(end, quote + 1);
          end = quote + 2;
          continue;
        }
        field += text.slice(end, quote);
        i = quote + 1;
        break;
      }
      if (text[i] !== ',' && text[i] !== '\r') throw new Error(`text after a quoted field at ${i}`);
      continue;
    }
    const c = text[i] as string;
    if (c === ',') {
      row.push(field);
      field = '';
      i += 1;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '"' || c === '\r' || c === '\n') {
      throw new Error(`unquoted ${JSON.stringify(c)} at ${i}`);
    } else {
      field += c;
      i += 1;
    }
  }
  if (field !== '' || row.length > 0) throw new Error('the last line does not end with CRLF');
  return rows;
}

/** What the CSV shows for a text cell: a leading ' before what a spreadsheet would run as a formula, or a '. */
const defused = (text: string) => (/^[=+\-@\t\r']/.test(text) ? `'${text}` : text);

t.test('given entries whose text needs quoting or looks like a formula', async (t) => {
  const { app, database } = await buildTestApp(t);
  const logs = await makeToken(database.db, ['logs']);
  const named = generateToken();
  const tokenName = '=cmd|" /C calc"!A0, the "ops" token';
  await insertToken(database.db, {
    id: named.id,
    name: tokenName,
    secretHash: hashSecret(named.secret),
    scopes: ['decide'],
    expiresAt: null,
  });
  const subjects = [
    'plain',
    'with,comma',
    'say "hi"',
    'line\nbreak',
    'crlf\r\ninside',
    '=HYPERLINK("http://example.com","x")',
    '+1',
    '-2+3',
    '@SUM(A1:A2)',
    '\tTAB',
    '\rCR',
    'Zoë 🙂 ünïcødé 日本',
    '1,000',
    // Already guarded by someone, and a plain quote: stripping one ' gives each back.
    "'=already",
    "'quoted",
  ];
  const base = Date.now() - 60_000;
  const rows = subjects.map((subject, i) =>
    logRow({
      decided_at: new Date(base + i * 1000),
      token_id: i % 2 === 0 ? named.id : null,
      subject_id: subject,
      resource_id: `r${i}`,
      allow: i % 3 === 0,
      reason_codes: i % 3 === 0 ? ['top_admin'] : ['client_not_allocated', 'ledger_access_required'],
      policy_revision: 'rev,1',
      eval_us: i === 4 ? null : 2.5 + i,
      duration_us: 40 + i,
    }),
  );
  const list = logRow({
    decided_at: new Date(base + 100_000),
    endpoint: 'query',
    allow: null,
    subject_id: 'sam',
    reason_codes: ['client_not_allocated'],
  });
  const refused = logRow({
    decided_at: new Date(base + 200_000),
    allow: false,
    subject_id: 'sam',
    reason_codes: ['context_unavailable'],
    error: JSON.stringify({ code: 'context_unavailable', message: 'the facts could not be read' }),
    shadow: JSON.stringify({ revision: 'rev2', allow: true, reasons: [] }),
  });
  await insertDecisionLogRows(database.db, [...rows, list, refused]);
  const response = await app.inject({
    method: 'GET',
    url: '/v1/decisions/export?format=csv',
    headers: { authorization: `Bearer ${logs}` },
  });

  t.test('when exported as CSV, then it is an attachment, not to be cached', async (t) => {
    t.equal(response.statusCode, 200, response.body.slice(0, 300));
    t.equal(response.headers['content-type'], 'text/csv; charset=utf-8');
    t.match(response.headers['content-disposition'], /^attachment; filename="decisions-\d{8}T\d{6}\.\d{3}Z\.csv"$/);
    t.equal(response.headers['cache-control'], 'no-store');
  });

  t.test('when parsed as RFC 4180, then every cell comes back, text a formula would start defused', async (t) => {
    const [header, ...lines] = parseCsv(response.body);
    t.same(header, [...EXPORT_COLUMNS]);
    t.equal(lines.length, rows.length + 2);
    const byId = new Map(lines.map((line) => [line[0], line]));
    t.same(byId.get(refused.decision_id)?.slice(10), [
      'false',
      'context_unavailable',
      '',
      '',
      '1',
      'context_unavailable',
      'true',
    ]);
    t.same(byId.get(list.decision_id)?.slice(2, 12), [
      'query',
      '',
      '',
      '',
      'sam',
      'client.view',
      'client',
      '',
      '',
      'client_not_allocated',
    ]);
    for (const [i, row] of rows.entries()) {
      const line = byId.get(row.decision_id);
      t.same(
        line,
        [
          row.decision_id,
          new Date(row.decided_at as Date).toISOString(),
          'decide',
          '',
          row.token_id ?? '',
          row.token_id === null ? '' : defused(tokenName),
          defused(row.subject_id as string),
          'client.view',
          'client',
          `r${i}`,
          String(row.allow),
          row.reason_codes.join(';'),
          'rev,1',
          row.eval_us === null ? '' : String(row.eval_us),
          String(row.duration_us),
          '',
          'false',
        ],
        JSON.stringify(row.subject_id),
      );
      // A reader gets each value back by stripping one ' from a cell that starts with it.
      const subject = line?.[6] ?? '';
      t.equal(subject.startsWith("'") ? subject.slice(1) : subject, row.subject_id, 'the value comes back');
    }
  });

  t.test('when read, then it is newest first and each line ends CRLF', async (t) => {
    const ids = parseCsv(response.body)
      .slice(1)
      .map((line) => line[0]);
    t.same(
      ids,
      [refused, list, ...[...rows].reverse()].map((row) => row.decision_id),
    );
    t.ok(response.body.endsWith('\r\n'));
    t.ok(response.body.includes('"say ""hi"""'), 'quotes doubled inside a quoted field');
    t.ok(response.body.includes('"\'=HYPERLINK(""http://example.com"",""x"")"'), 'a formula defused, then quoted');
    t.ok(response.body.includes('Zoë 🙂 ünïcødé 日本'), 'UTF-8 as it is');
  });

  t.test('when nothing matches, then the CSV is its header line; the NDJSON is empty', async (t) => {
    const get = (format: string) =>
      app.inject({
        method: 'GET',
        url: `/v1/decisions/export?subject_id=nobody&format=${format}`,
        headers: { authorization: `Bearer ${logs}` },
      });
    t.equal((await get('csv')).body, `${EXPORT_COLUMNS.join(',')}\r\n`);
    const ndjson = await get('ndjson');
    t.equal(ndjson.statusCode, 200);
    t.equal(ndjson.headers['content-type'], 'application/x-ndjson; charset=utf-8');
    t.equal(ndjson.body, '');
  });
});

t.test('given 400 logged decisions over five days', async (t) => {
  const { app, database } = await buildTestApp(t);
  const rows = spreadRows(400);
  await insertDecisionLogRows(database.db, rows.map(asInsert));
  const logs = await makeToken(database.db, ['logs']);
  const get = (url: string, token = logs) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const ndjsonLines = (body: string) =>
    body
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { decision_id: string });

  for (const [query, keep] of filterCases(rows)) {
    t.test(
      `when exported filtered by "${query || 'nothing'}", then every match comes once, newest first`,
      async (t) => {
        const expected = rows
          .filter(keep)
          .sort(newestFirst)
          .map((r) => r.decision_id);
        t.ok(expected.length > 0, `the data set has matches (${expected.length})`);
        const csv = await get(`/v1/decisions/export?${query}`);
        t.equal(csv.statusCode, 200, csv.body.slice(0, 300));
        t.same(
          parseCsv(csv.body)
            .slice(1)
            .map((line) => line[0]),
          expected,
          'csv',
        );
        const ndjson = await get(`/v1/decisions/export?${query}&format=ndjson`);
        t.same(
          ndjsonLines(ndjson.body).map((line) => line.decision_id),
          expected,
          'ndjson',
        );
      },
    );
  }

  t.test('when exported as NDJSON, then each line is the entry as GET /v1/decisions shows it', async (t) => {
    const lines = ndjsonLines((await get('/v1/decisions/export?format=ndjson')).body);
    const listed = (await get('/v1/decisions?limit=1000')).json().decisions;
    t.equal(lines.length, 400);
    t.same(lines, listed);
    const one = lines[123] as { decision_id: string };
    t.same(one, (await get(`/v1/decisions/${one.decision_id}`)).json());
  });

  t.test('when exported, then the audit trail says which token exported what, and how', async (t) => {
    const response = await get('/v1/decisions/export?subject_id=sam&allow=false&format=ndjson');
    t.equal(response.statusCode, 200);
    const fileName = /filename="([^"]+)"/.exec(String(response.headers['content-disposition']))?.[1];
    const audit = (await get('/v1/audit?record_type=decision_log')).json();
    t.match(audit.entries[0], {
      token_id: tokenIdOf(logs),
      account_id: null,
      record_type: 'decision_log',
      record_id: fileName,
      user_id: 'sam',
      change: 'export',
      before: null,
      after: { format: 'ndjson', filter: { subject_id: 'sam', allow: false }, taken_at: String },
    });
    t.same(Object.keys(audit.entries[0].after.filter).sort(), ['allow', 'subject_id'], 'the filter as given');
    const aboutSam = (await get('/v1/audit?user_id=sam')).json();
    t.equal(aboutSam.entries[0].record_id, fileName, 'found by the user it was about');
  });

  const refused: Array<[string, string]> = [
    ['allow=maybe', 'allow'],
    ['since=yesterday', 'since'],
    ['subject_id=bad%20id', 'subject_id'],
    ['endpoint=graphql', 'endpoint'],
    ['batch_id=not-a-uuid', 'batch_id'],
    ['shadow_differs=perhaps', 'shadow_differs'],
    ['reason_code=Not-A-Code', 'reason_code'],
    ['format=xlsx', 'format'],
    ['limit=10', 'limit'],
    ['cursor=bm9wZQ', 'cursor'],
    ['since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    // RFC 3339 admits a leap second; no Date holds one.
    ['since=2016-12-31T23:59:60Z', 'since'],
    ['until=2016-12-31T23:59:60Z', 'until'],
  ];
  for (const [query, field] of refused) {
    t.test(`when asked to export ?${query}, then 400 names ${field} and nothing is recorded`, async (t) => {
      const before = (await get('/v1/audit?record_type=decision_log')).json().entries.length;
      const response = await get(`/v1/decisions/export?${query}`);
      t.equal(response.statusCode, 400);
      t.equal(response.json().error.code, 'invalid_request');
      t.equal(response.json().error.details.field, field);
      t.equal((await get('/v1/audit?record_type=decision_log')).json().entries.length, before);
    });
  }

  t.test('when asked by HEAD, then nothing is exported nor recorded', async (t) => {
    const before = (await get('/v1/audit?record_type=decision_log')).json().entries.length;
    const head = await app.inject({
      method: 'HEAD',
      url: '/v1/decisions/export',
      headers: { authorization: `Bearer ${logs}` },
    });
    // No HEAD of the export: the path reads as one entry's (whose HEAD refuses the id "export").
    t.ok(head.statusCode >= 400 && head.statusCode < 500, `refused (${head.statusCode})`);
    t.equal((await get('/v1/audit?record_type=decision_log')).json().entries.length, before);
  });

  t.test('when the token lacks the logs scope, then 403; without a token, 401', async (t) => {
    const decide = await makeToken(database.db, ['decide', 'admin']);
    const forbidden = await get('/v1/decisions/export', decide);
    t.equal(forbidden.statusCode, 403);
    t.equal(forbidden.json().error.code, 'insufficient_scope');
    t.equal((await app.inject({ method: 'GET', url: '/v1/decisions/export' })).statusCode, 401);
  });
});

/** Entries written by the database itself, fast: a millisecond apart, the newest a second ago. */
async function fillLog(db: Kysely<Database>, count: number): Promise<void> {
  await sql`
    insert into decision_log (decision_id, decided_at, endpoint, token_id, subject_id, action, resource_type, resource_id,
                              allow, reason_codes, input, result, policy_revision, eval_us, duration_us)
    select gen_random_uuid(), now() - interval '1 second' - i * interval '1 millisecond', 'decide', null,
           'user-' || (i % 500), 'client.view', 'client', 'client-' || (i % 2000), i % 3 = 0,
           case when i % 3 = 0 then array['top_admin'] else array['client_not_allocated'] end,
           json_build_object('action', 'client.view', 'subject', json_build_object('id', 'user-' || (i % 500), 'role', 'standard'),
                             'resource', json_build_object('type', 'client', 'id', 'client-' || (i % 2000), 'ledger', 'xero')),
           '{"allow": false, "reasons": [{"code": "client_not_allocated", "message": "the client is not allocated"}]}',
           'rev', 5 + i % 50, 60
    from generate_series(1, ${count}::int) i`.execute(db);
}

/** A GET to a listening app, answered as a stream the caller reads (or leaves unread) at its pace. */
function open(port: number, path: string, token: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      headers: { authorization: `Bearer ${token}`, connection: 'close' },
    });
    request.on('response', resolve).on('error', reject).end();
  });
}

// The embedded engine runs in this process and pages the log by keyset: fewer entries keep the file
// quick there; the memory it holds is the same (a page at a time).
const LARGE = TEST_ENGINE === 'postgres' ? 100_000 : 30_000;

t.test(`given ${LARGE.toLocaleString('en')} logged decisions and the app listening`, async (t) => {
  const { app, database } = await buildTestApp(t);
  // A statement of 100,000 rows (and the tallies their triggers keep) may outlast the 5 s bound on a loaded machine.
  await fillLog(database.longDb, LARGE);
  const logs = await makeToken(database.db, ['logs']);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;

  t.test('when the whole log is exported as NDJSON, then memory held stays far below its size', async (t) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    const response = await open(port, '/v1/decisions/export?format=ndjson', logs);
    t.equal(response.statusCode, 200);
    let bytes = 0;
    let lines = 0;
    let nextLook = LARGE / 10;
    const held: number[] = [];
    for await (const chunk of response as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines += 1;
      if (lines >= nextLook) {
        nextLook += LARGE / 10;
        // Reading paused: the server fills what buffers it has, then waits; what is still held is its own.
        await sleep(50);
        gc();
        held.push(process.memoryUsage().heapUsed - baseline);
      }
    }
    t.equal(lines, LARGE, 'every entry, one a line');
    const most = Math.max(...held);
    t.comment(
      `export ${(bytes / 2 ** 20).toFixed(1)} MiB; heap held over the baseline during it, after GC: ${held.map((h) => (h / 2 ** 20).toFixed(1)).join(', ')} MiB`,
    );
    t.ok(held.length >= 9, 'looked at ten points');
    t.ok(most < bytes / 4, `at most ${(most / 2 ** 20).toFixed(1)} MiB held, under a quarter of the export`);
  });

  /** Connections of the app's database inside a transaction (PostgreSQL). */
  const inTransaction = async () =>
    Number(
      (
        await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and xact_start is not null and pid <> pg_backend_pid()`.execute(
          database.db,
        )
      ).rows[0]?.n,
    );

  t.test('when clients go away mid-stream, then their reads end and what they held is freed', async (t) => {
    const started: IncomingMessage[] = [];
    for (let i = 0; i < EXPORTS_AT_ONCE; i++) {
      const response = await open(port, '/v1/decisions/export?format=csv', logs);
      t.equal(response.statusCode, 200);
      // The first bytes, then nothing more is read.
      await new Promise((resolve) => response.once('data', resolve));
      response.pause();
      started.push(response);
    }
    if (TEST_ENGINE === 'postgres') t.equal(await inTransaction(), EXPORTS_AT_ONCE, 'each holds its cursor');
    const more = await open(port, '/v1/decisions/export', logs);
    t.equal(more.statusCode, 429, 'another export waits for one to end');
    more.resume();

    for (const response of started) response.destroy();
    if (TEST_ENGINE === 'postgres') {
      t.ok(await eventually(async () => (await inTransaction()) === 0, 10_000), 'every cursor closed');
    }
    t.ok(
      await eventually(async () => {
        const again = await open(port, '/v1/decisions/export?until=2000-01-01T00:00:00Z', logs);
        again.resume();
        return again.statusCode === 200;
      }, 10_000),
      'exports may start again',
    );
    const listed = await app.inject({
      method: 'GET',
      url: '/v1/decisions?limit=1',
      headers: { authorization: `Bearer ${logs}` },
    });
    t.equal(listed.statusCode, 200, 'the log still answers');
  });
});
