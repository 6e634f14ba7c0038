// Operators search the decision log: every filter, alone and combined, newest first, paged with a
// cursor that neither skips nor repeats; bad parameters are refused naming the parameter.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { insertDecisionLogRows } from '../../service/data/decision-log.ts';
import type { DecisionLogRow, NewDecisionLogRow } from '../../service/data/schema.ts';
import { buildTestApp } from '../helpers/app.ts';
import { makeToken } from '../helpers/fixtures.ts';

type Row = Pick<
  DecisionLogRow,
  | 'decision_id'
  | 'endpoint'
  | 'batch_id'
  | 'subject_id'
  | 'action'
  | 'resource_type'
  | 'resource_id'
  | 'allow'
  | 'reason_codes'
> & { decided_at: Date; token_id: string; policy_revision: string };

// A deterministic spread over five days, several entries sharing a millisecond.
function generate(count: number): Row[] {
  // mulberry32
  let seed = 7;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const batch = randomUUID();
  const base = Date.now() - 5 * 86_400_000;
  return Array.from({ length: count }, (_, i) => {
    const endpoint = pick(['decide', 'batch', 'query', 'opa'] as const);
    const allow = endpoint === 'query' ? null : pick([true, false]);
    return {
      decision_id: randomUUID(),
      decided_at: new Date(base + Math.floor(i / 3) * 3_600_000),
      endpoint,
      batch_id: endpoint === 'batch' ? batch : null,
      token_id: pick(['tok-a', 'tok-b']),
      subject_id: pick(['ada', 'cal', 'sam']),
      action: endpoint === 'query' ? 'client.view' : pick(['client.view', 'item.edit', 'user.update']),
      resource_type: pick(['client', 'item']),
      resource_id: endpoint === 'query' ? null : pick(['c1', 'c2', 'i1']),
      allow,
      reason_codes:
        allow === true
          ? ['top_admin']
          : pick([['client_not_allocated'], ['client_not_allocated', 'ledger_access_required'], ['not_owner']]),
      policy_revision: pick(['rev1', 'rev2']),
    };
  });
}

const toInsert = (row: Row): NewDecisionLogRow => ({
  ...row,
  input: JSON.stringify({ action: row.action }),
  result: JSON.stringify({ allow: row.allow, reasons: row.reason_codes.map((code) => ({ code, message: code })) }),
  masked: '[]',
  error: null,
  eval_us: 5,
  duration_us: 50,
});

const newestFirst = (a: Row, b: Row) =>
  b.decided_at.getTime() - a.decided_at.getTime() ||
  (a.decision_id < b.decision_id ? 1 : a.decision_id > b.decision_id ? -1 : 0);

t.test('given 400 logged decisions over five days', async (t) => {
  const { app, database } = await buildTestApp(t);
  const rows = generate(400);
  await insertDecisionLogRows(database.db, rows.map(toInsert));
  const logs = await makeToken(database.db, ['logs']);
  const get = (url: string, token = logs) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  /** Every page of a query, following next_cursor. */
  const allPages = async (query: string, limit: number) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await get(`/v1/decisions?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      t.equal(response.statusCode, 200, response.body.slice(0, 200));
      const body = response.json() as { decisions: Array<{ decision_id: string }>; next_cursor: string | null };
      t.ok(body.decisions.length <= limit);
      ids.push(...body.decisions.map((d) => d.decision_id));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 500);
    return ids;
  };

  const since = new Date(Date.now() - 3 * 86_400_000);
  const until = new Date(Date.now() - 1 * 86_400_000);
  const filters: Array<[string, (r: Row) => boolean]> = [
    ['', () => true],
    ['subject_id=sam', (r) => r.subject_id === 'sam'],
    ['action=item.edit', (r) => r.action === 'item.edit'],
    ['resource_type=item', (r) => r.resource_type === 'item'],
    ['resource_id=c2', (r) => r.resource_id === 'c2'],
    ['allow=true', (r) => r.allow === true],
    ['allow=false', (r) => r.allow === false],
    ['reason_code=ledger_access_required', (r) => r.reason_codes.includes('ledger_access_required')],
    ['policy_revision=rev2', (r) => r.policy_revision === 'rev2'],
    ['endpoint=query', (r) => r.endpoint === 'query'],
    [`batch_id=${rows.find((r) => r.batch_id !== null)?.batch_id}`, (r) => r.batch_id !== null],
    ['token_id=tok-b', (r) => r.token_id === 'tok-b'],
    [`since=${since.toISOString()}`, (r) => r.decided_at >= since],
    [`until=${until.toISOString()}`, (r) => r.decided_at < until],
    [
      `subject_id=cal&allow=false&reason_code=client_not_allocated&since=${since.toISOString()}&until=${until.toISOString()}`,
      (r) =>
        r.subject_id === 'cal' &&
        r.allow === false &&
        r.reason_codes.includes('client_not_allocated') &&
        r.decided_at >= since &&
        r.decided_at < until,
    ],
  ];
  for (const [query, keep] of filters) {
    t.test(
      `when filtered by "${query || 'nothing'}" and paged, then every match comes once, newest first`,
      async (t) => {
        const expected = rows
          .filter(keep)
          .sort(newestFirst)
          .map((r) => r.decision_id);
        t.ok(expected.length > 0, `the data set has matches (${expected.length})`);
        t.same(await allPages(query, 23), expected);
      },
    );
  }

  t.test('when no limit is given, then a page holds 100 entries', async (t) => {
    const body = (await get('/v1/decisions')).json();
    t.equal(body.decisions.length, 100);
    t.type(body.next_cursor, 'string');
  });

  t.test('when the last page is reached, then next_cursor is null', async (t) => {
    const body = (await get('/v1/decisions?subject_id=nobody')).json();
    t.same(body, { decisions: [], next_cursor: null });
  });

  t.test('when one entry is asked for by id, then it comes back whole; an unknown id is 404', async (t) => {
    const row = rows[17] as Row;
    const entry = (await get(`/v1/decisions/${row.decision_id}`)).json();
    t.match(entry, {
      decision_id: row.decision_id,
      subject: { id: row.subject_id },
      action: row.action,
      reason_codes: row.reason_codes,
      input: { action: row.action },
    });
    const missing = await get(`/v1/decisions/${randomUUID()}`);
    t.equal(missing.statusCode, 404);
    t.equal(missing.json().error.code, 'decision_not_found');
  });

  const refused: Array<[string, string]> = [
    ['/v1/decisions?limit=0', 'limit'],
    ['/v1/decisions?limit=1001', 'limit'],
    ['/v1/decisions?limit=ten', 'limit'],
    ['/v1/decisions?allow=maybe', 'allow'],
    ['/v1/decisions?since=yesterday', 'since'],
    ['/v1/decisions?subject_id=bad%20id', 'subject_id'],
    ['/v1/decisions?endpoint=graphql', 'endpoint'],
    ['/v1/decisions?batch_id=not-a-uuid', 'batch_id'],
    ['/v1/decisions?cursor=bm9wZQ', 'cursor'],
    ['/v1/decisions?subject=sam', 'subject'],
    [`/v1/decisions?since=${until.toISOString()}&until=${since.toISOString()}`, 'until'],
    ['/v1/decisions/not-a-uuid', 'decisionId'],
  ];
  for (const [url, field] of refused) {
    t.test(`when asked ${url}, then 400 names ${field}`, async (t) => {
      const response = await get(url);
      t.equal(response.statusCode, 400);
      t.equal(response.json().error.details.field, field);
    });
  }

  t.test('when the token lacks the logs scope, then 403; without a token, 401', async (t) => {
    const decide = await makeToken(database.db, ['decide']);
    t.equal((await get('/v1/decisions', decide)).statusCode, 403);
    t.equal((await get(`/v1/decisions/${rows[0]?.decision_id}`, decide)).statusCode, 403);
    t.equal((await app.inject({ method: 'GET', url: '/v1/decisions' })).statusCode, 401);
  });
});
