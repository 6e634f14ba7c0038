// Read-after-write through real HTTP: with CLEARANCE_WORKERS=2, a decision asked after a write's
// answer sees the write on either worker (revocation included); across two separate processes
// on one database, a decision passing the write's consistency token (or "fresh") sees it too.
import t from 'tap';
import { eventually } from '../helpers/app.ts';
import { TEST_ENGINE } from '../helpers/database.ts';
import { type HttpAnswer, sendRequest } from '../helpers/http-request.ts';
import { startServer } from '../helpers/server-process.ts';

t.setTimeout(600_000);

const ROUNDS = 100;
const P = '/v1/accounts/raw';

type Answer = HttpAnswer;

/** One request on a connection of its own, so that the cluster hands it to its next worker. */
const send = (
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => sendRequest(base, token, method, path, body, { headers });

const must = async (answer: Promise<Answer>, what: string): Promise<Answer> => {
  const a = await answer;
  if (a.status >= 300) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
  return a;
};

/** A practice with a standard user (selected clients) and two clients, written through the API. */
async function seed(base: string, token: string): Promise<void> {
  const admin = (method: string, path: string, body?: unknown) =>
    must(send(base, token, method, path, body), `${method} ${path}`);
  await admin('PUT', P, { kind: 'practice', name: 'Read after write' });
  await admin('PUT', `${P}/users/raw-std`, { name: 'Std', role: 'standard', client_access_mode: 'selected' });
  await admin('PUT', `${P}/users/raw-other`, { name: 'Other', role: 'standard' });
  await admin('PUT', `${P}/clients/raw-acme`, { name: 'Acme', ledger: 'none' });
  await admin('PUT', `${P}/clients/raw-globex`, { name: 'Globex', ledger: 'none' });
}

const question = (client: string) => ({
  subject: { id: 'raw-std' },
  action: 'client.view',
  resource: { type: 'client', id: client },
});

/**
 * The kinds of write that take access away, each with the write that gives it back, as steps
 * from the base state (active, selected clients, raw-acme allocated) back to it. After each
 * write the next decisions about `client` must give `allow`.
 */
interface WriteKind {
  name: string;
  client: string;
  steps: Array<{ write: (admin: Admin) => Promise<Answer>; allow: boolean }>;
}
type Admin = (method: string, path: string, body?: unknown) => Promise<Answer>;

const allocate = (user: string) => (admin: Admin) =>
  admin('POST', `${P}/sync/allocations`, { mode: 'replace', records: [{ user_id: user, client_id: 'raw-acme' }] });

const KINDS: WriteKind[] = [
  {
    name: 'an allocation delete',
    client: 'raw-acme',
    steps: [
      { write: (admin) => admin('DELETE', `${P}/users/raw-std/allocations`), allow: false },
      { write: (admin) => admin('PUT', `${P}/users/raw-std/allocations`, { client_ids: ['raw-acme'] }), allow: true },
    ],
  },
  {
    name: 'a suspension',
    client: 'raw-acme',
    steps: [
      { write: (admin) => admin('PATCH', `${P}/users/raw-std`, { status: 'suspended' }), allow: false },
      { write: (admin) => admin('PATCH', `${P}/users/raw-std`, { status: 'active' }), allow: true },
    ],
  },
  {
    name: 'a sync replace',
    client: 'raw-acme',
    steps: [
      { write: allocate('raw-other'), allow: false },
      { write: allocate('raw-std'), allow: true },
    ],
  },
  {
    name: 'a mode change',
    client: 'raw-globex',
    steps: [
      { write: (admin) => admin('PATCH', `${P}/users/raw-std`, { client_access_mode: 'all' }), allow: true },
      { write: (admin) => admin('PATCH', `${P}/users/raw-std`, { client_access_mode: 'selected' }), allow: false },
    ],
  },
];

/** Decisions sent at once, each on a new connection: with two workers, both get one. */
const AT_ONCE = 3;

t.test(
  'given two workers on PostgreSQL',
  { skip: TEST_ENGINE !== 'postgres' && 'workers need DATABASE_URL' },
  async (t) => {
    const server = await startServer(t, { CLEARANCE_WORKERS: '2', LOG_LEVEL: 'info' });
    t.ok(await eventually(async () => /Clearance is listening/.test(server.output()), 60_000), 'every worker is ready');
    await seed(server.base, server.token);
    await must(
      send(server.base, server.token, 'PUT', `${P}/users/raw-std/allocations`, { client_ids: ['raw-acme'] }),
      'the base state',
    );
    const admin: Admin = (method, path, body) =>
      must(send(server.base, server.token, method, path, body), `${method} ${path}`);
    const decideAll = (client: string) =>
      Promise.all(
        Array.from({ length: AT_ONCE }, () => send(server.base, server.token, 'POST', '/v1/decide', question(client))),
      );

    t.test(
      `when access is taken away and given back ${ROUNDS} times by each kind of write, then the next decisions on either worker see every write`,
      async (t) => {
        const stale: string[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          for (const kind of KINDS) {
            for (const [i, step] of kind.steps.entries()) {
              await step.write(admin);
              for (const answer of await decideAll(kind.client)) {
                if (answer.status !== 200 || answer.body?.allow !== step.allow)
                  stale.push(
                    `round ${round}, ${kind.name} step ${i + 1}: ${answer.status} ${JSON.stringify(answer.body)}`,
                  );
              }
            }
          }
        }
        t.same(
          stale.slice(0, 20),
          [],
          `no stale answer in ${ROUNDS * KINDS.length * 2 * AT_ONCE} decisions (${stale.length} stale)`,
        );
      },
    );

    t.test(
      `when a token is made and then revoked ${ROUNDS} times, then the next requests on either worker accept it and then refuse it`,
      async (t) => {
        const stale: string[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const made = await admin('POST', '/v1/tokens', { name: `round ${round}`, scopes: ['decide'] });
          const { id, token } = made.body as { id: string; token: string };
          const ask = () =>
            Promise.all(
              Array.from({ length: AT_ONCE }, () =>
                send(server.base, token, 'POST', '/v1/decide', question('raw-acme')),
              ),
            );
          for (const answer of await ask())
            if (answer.status !== 200)
              stale.push(`round ${round}, the new token: ${answer.status} ${JSON.stringify(answer.body)}`);
          await admin('DELETE', `/v1/tokens/${id}`);
          for (const answer of await ask())
            if (answer.status !== 401)
              stale.push(`round ${round}, the revoked token: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        t.same(
          stale.slice(0, 20),
          [],
          `the revoked token refused by every request after the revocation (${stale.length} accepted)`,
        );
      },
    );

    t.test('then both workers answered decisions', async (t) => {
      const pids = new Set([...server.output().matchAll(/"pid":(\d+),[^\n]*"url":"\/v1\/decide"/g)].map((m) => m[1]));
      t.equal(pids.size, 2, 'two processes answered /v1/decide');
    });
  },
);

t.test(
  'given two replicas (separate processes) on one PostgreSQL database',
  { skip: TEST_ENGINE !== 'postgres' && 'two processes share a database on PostgreSQL only' },
  async (t) => {
    const a = await startServer(t);
    const b = await startServer(t, {}, { replicaOf: a });
    await seed(a.base, a.token);
    await must(
      send(a.base, a.token, 'PUT', `${P}/users/raw-std/allocations`, { client_ids: ['raw-acme'] }),
      'the base state',
    );
    const admin: Admin = (method, path, body) => must(send(a.base, a.token, method, path, body), `${method} ${path}`);
    const onB = (client: string, consistency?: unknown) =>
      send(b.base, b.token, 'POST', '/v1/decide', {
        ...question(client),
        ...(consistency === undefined ? {} : { consistency }),
      });

    t.test(
      `when each kind of write is made ${ROUNDS} times through one, then the other, asked with the write's consistency token or "fresh", sees every write`,
      async (t) => {
        const stale: string[] = [];
        let staleWithout = 0;
        for (let round = 0; round < ROUNDS; round++) {
          for (const kind of KINDS) {
            for (const [i, step] of kind.steps.entries()) {
              const written = await step.write(admin);
              const token = written.headers['clearance-consistency-token'];
              if (typeof token !== 'string') throw new Error(`no consistency token after ${kind.name}`);
              const [withToken, fresh, without] = await Promise.all([
                onB(kind.client, { at_least: token }),
                onB(kind.client, 'fresh'),
                onB(kind.client),
              ]);
              for (const [how, answer] of [
                ['with the token', withToken],
                ['fresh', fresh],
              ] as const) {
                if (answer.status !== 200 || answer.body?.allow !== step.allow)
                  stale.push(
                    `round ${round}, ${kind.name} step ${i + 1} ${how}: ${answer.status} ${JSON.stringify(answer.body)}`,
                  );
              }
              if (without.body?.allow !== step.allow) staleWithout += 1;
            }
          }
        }
        t.same(
          stale.slice(0, 20),
          [],
          `no stale answer in ${ROUNDS * KINDS.length * 2 * 2} decisions (${stale.length} stale)`,
        );
        t.comment(
          `without a token, asked at the same moment: ${staleWithout} of ${ROUNDS * KINDS.length * 2} answers did not yet show the write`,
        );
      },
    );

    t.test('when the token is malformed, then the other answers 400 naming consistency.at_least', async (t) => {
      const answer = await onB('raw-acme', { at_least: 'ct1.not-a-number' });
      t.equal(answer.status, 400);
      t.equal(
        (answer.body?.error as { details?: { field?: string } } | undefined)?.details?.field,
        'consistency.at_least',
      );
    });
  },
);
