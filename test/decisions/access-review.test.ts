// The access review export: its rows are the pairwise decisions, in CSV (RFC 4180, names with
// commas, quotes and line breaks) and NDJSON, under one policy revision named in a header; it is
// recorded in the audit trail; its refusals.
import t from 'tap';
import { buildTestApp } from '../helpers/app.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';

const COLUMNS = 'user_id,user_name,role,client_access_mode,client_id,client_name,ledger,allowed,reason_codes';

/** RFC 4180 records of a CSV text (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || record.length > 0)
    throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return records;
}

t.test('given the fixture data set', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { db } = database;
  await seedFixtures(db);
  // Names from another system: commas, quotes and line breaks are data.
  await db.updateTable('clients').set({ name: 'Smith, "Jones"\r\n& Co' }).where('id', '=', 'c_xero').execute();
  await db.updateTable('users').set({ name: 'O"Neil, Pat\nthe second' }).where('id', '=', 'std_sel').execute();
  const logs = await makeToken(db, ['logs']);
  const decide = await makeToken(db, ['decide']);
  const get = (url: string, token = logs) => app.inject({ url, headers: { authorization: `Bearer ${token}` } });

  /** Every user × client of p1 as /v1/decide answers it, in id order. */
  async function pairwise(action: string) {
    const users = await db
      .selectFrom('users')
      .select(['id', 'name', 'role', 'client_access_mode'])
      .where('account_id', '=', 'p1')
      .orderBy('id')
      .execute();
    const clients = await db
      .selectFrom('clients')
      .select(['id', 'name', 'ledger'])
      .where('account_id', '=', 'p1')
      .orderBy('id')
      .execute();
    const pairs = users.flatMap((user) => clients.map((client) => ({ user, client })));
    const { results } = (
      await app.inject({
        method: 'POST',
        url: '/v1/decide/batch',
        headers: { authorization: `Bearer ${decide}` },
        payload: {
          requests: pairs.map(({ user, client }) => ({
            subject: { id: user.id },
            action,
            resource: { type: 'client', id: client.id },
          })),
        },
      })
    ).json() as { results: Array<{ allow: boolean; reasons: Array<{ code: string }> }> };
    return pairs.map(({ user, client }, i) => ({
      user_id: user.id,
      user_name: user.name,
      role: user.role,
      client_access_mode: user.client_access_mode,
      client_id: client.id,
      client_name: client.name,
      ledger: client.ledger,
      allowed: results[i]?.allow,
      reason_codes: results[i]?.reasons.map((r) => r.code),
    }));
  }

  for (const action of ['client.view', 'client.edit', 'time.push']) {
    t.test(
      `when the ${action} review is taken as CSV and NDJSON, then every row is the pairwise decision`,
      async (t) => {
        const want = await pairwise(action);
        const csv = await get(`/v1/accounts/p1/access-review?action=${action}`);
        t.equal(csv.statusCode, 200);
        t.match(csv.headers['content-type'], /^text\/csv/);
        t.equal(csv.headers['clearance-policy-revision'], app.policy.engine?.revision);
        t.ok(Number.isFinite(Date.parse(String(csv.headers.date))), 'Date says when it was taken');
        const [header, ...rows] = parseCsv(csv.payload);
        t.equal(header?.join(','), COLUMNS);
        t.same(
          rows,
          want.map((r) => [
            r.user_id,
            r.user_name,
            r.role,
            r.client_access_mode ?? '',
            r.client_id,
            r.client_name,
            r.ledger,
            String(r.allowed),
            r.reason_codes?.join(';'),
          ]),
          'CSV rows, names with commas, quotes and line breaks intact',
        );
        const ndjson = await get(`/v1/accounts/p1/access-review?action=${action}&format=ndjson`);
        t.match(ndjson.headers['content-type'], /^application\/x-ndjson/);
        t.ok(ndjson.payload.endsWith('\n'));
        t.same(
          ndjson.payload
            .trimEnd()
            .split('\n')
            .map((line) => JSON.parse(line)),
          want,
          'NDJSON rows',
        );
      },
    );
  }

  t.test('when a review is taken, then the audit trail says who took what', async (t) => {
    await get('/v1/accounts/p1/access-review?action=client.view&format=ndjson');
    const trail = (await get('/v1/audit?record_type=access_review&limit=1')).json();
    t.match(trail.entries[0], {
      account_id: 'p1',
      record_type: 'access_review',
      record_id: 'p1',
      change: 'export',
      token_id: logs.split('_')[1],
      after: {
        action: 'client.view',
        format: 'ndjson',
        policy_revision: app.policy.engine?.revision,
        users: 10,
        clients: 6,
      },
    });
  });

  t.test('when a business account is reviewed, then there are no clients and only the header line', async (t) => {
    const response = await get('/v1/accounts/b1/access-review?action=client.view');
    t.equal(response.statusCode, 200);
    t.equal(response.payload, `${COLUMNS}\r\n`);
  });

  t.test('when the review cannot be taken, then it is refused and nothing is recorded', async (t) => {
    const before = (await get('/v1/audit?record_type=access_review&limit=100')).json().entries.length;
    const refused = async (url: string, status: number, code: string, token = logs) => {
      const response = await get(url, token);
      t.equal(response.statusCode, status, url);
      t.equal(response.json().error.code, code);
    };
    await refused('/v1/accounts/nowhere/access-review?action=client.view', 404, 'account_not_found');
    await refused('/v1/accounts/p1/access-review?action=no.such.action', 400, 'unknown_action');
    await refused('/v1/accounts/p1/access-review?action=item.view', 400, 'resource_type_mismatch');
    await refused('/v1/accounts/p1/access-review?action=client.view&format=xml', 400, 'invalid_request');
    await refused('/v1/accounts/p1/access-review', 400, 'invalid_request');
    await refused('/v1/accounts/p1/access-review?action=client.view', 403, 'insufficient_scope', decide);
    t.equal((await get('/v1/audit?record_type=access_review&limit=100')).json().entries.length, before);
  });
});
