// Operators search the decision log: every filter, alone and combined, newest first, paged with a
// cursor that neither skips nor repeats; bad parameters are refused naming the parameter.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { insertDecisionLogRows } from '../../service/data/decision-log.ts';
import { buildTestApp } from '../helpers/app.ts';
import { asInsert, filterCases, newestFirst, type SpreadRow, spreadRows } from '../helpers/decision-log.ts';
import { makeToken } from '../helpers/fixtures.ts';

t.test('given 400 logged decisions over five days', async (t) => {
  const { app, database } = await buildTestApp(t);
  const rows = spreadRows(400);
  await insertDecisionLogRows(database.db, rows.map(asInsert));
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

  const filters = filterCases(rows);
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
    const row = rows[17] as SpreadRow;
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
    ['/v1/decisions?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
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
