// Activation across replicas: two service processes on one PostgreSQL database, the second with
// two workers. An activation through one is served by every worker of the other within a second;
// activations made at once through both end with every process on the one committed last.
import t from 'tap';
import { TEST_ENGINE } from '../helpers/database.ts';
import { type HttpAnswer, sendRequest } from '../helpers/http-request.ts';
import { variant, renamedAction } from '../helpers/policy-bundles.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { eventually } from '../helpers/wait.ts';

type Answer = HttpAnswer;

/** One request on a connection of its own, so that a cluster hands it to its next worker. */
const send = (
  server: ServerProcess,
  method: string,
  path: string,
  body?: Buffer | object,
  contentType = 'application/json',
) => sendRequest(server.base, server.token, method, path, body, { contentType });

async function must(answer: Promise<Answer>, what: string): Promise<Record<string, unknown>> {
  const got = await answer;
  if (got.status >= 300) throw new Error(`${what}: ${got.status} ${JSON.stringify(got.body)}`);
  return got.body ?? {};
}

/** The revision a decision of the server answers with, and its reason codes. */
async function decidedBy(server: ServerProcess): Promise<{ revision: unknown; codes: string[] }> {
  const body = await must(
    send(server, 'POST', '/v1/decide', {
      subject: { id: 'ada' },
      action: 'client.view',
      resource: { type: 'client', id: 'acme' },
    }),
    'decide',
  );
  return { revision: body.policy_revision, codes: (body.reasons as Array<{ code: string }>).map((r) => r.code) };
}

t.test(
  'given two replicas on one PostgreSQL database, the second with two workers',
  { skip: TEST_ENGINE !== 'postgres' && 'two processes share a database on PostgreSQL only' },
  async (t) => {
    const a = await startServer(t);
    const b = await startServer(t, { CLEARANCE_WORKERS: '2' }, { replicaOf: a });
    const upload = (server: ServerProcess, archive: Buffer) =>
      must(send(server, 'POST', '/v1/policies', archive, 'application/gzip'), 'upload');
    const activate = (server: ServerProcess, revision: string) =>
      send(server, 'POST', `/v1/policies/${revision}/activate`);
    const newest = async () =>
      (await a.query<{ revision: string }>('select revision from policy_activations order by seq desc limit 1'))[0]
        ?.revision;

    t.test(
      'when a revision is activated through one, then every worker of the other serves it within 1 s',
      async (t) => {
        const renamed = renamedAction();
        await upload(a, renamed.archive);
        const before = await decidedBy(b);
        t.not(before.revision, renamed.revision);
        await must(activate(a, renamed.revision), 'activate');
        const activatedAt = Date.now();
        t.same(
          await decidedBy(a),
          { revision: renamed.revision, codes: ['unknown_action'] },
          'the one activating at once',
        );
        // Ten answers in a row, each on a new connection (the cluster's workers take turns).
        let streak = 0;
        const served = await eventually(async () => {
          const answer = await decidedBy(b);
          streak = answer.revision === renamed.revision ? streak + 1 : 0;
          return streak >= 10;
        }, 5000);
        const took = Date.now() - activatedAt;
        t.ok(served, 'the other came to serve it');
        t.ok(took < 1000, `every worker of the other served it ${took} ms after the activation answered`);
        t.same(await decidedBy(b), { revision: renamed.revision, codes: ['unknown_action'] }, 'by its rules');
        const ready = await must(send(b, 'GET', '/ready'), 'ready');
        t.equal(ready.policy_revision, renamed.revision);
      },
    );

    t.test('when two revisions are activated through both at once, then both end on the last committed', async (t) => {
      const rounds = 5;
      const bundles = Array.from({ length: rounds * 2 }, (_, i) => variant(`concurrent-${i}`));
      for (const bundle of bundles) await upload(a, bundle.archive);
      const disagreements: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const [onA, onB] = [bundles[round * 2], bundles[round * 2 + 1]] as [(typeof bundles)[0], (typeof bundles)[0]];
        const [viaA, viaB] = await Promise.all([activate(a, onA.revision), activate(b, onB.revision)]);
        t.equal(viaA.status, 200, `round ${round}: through the first`);
        t.equal(viaB.status, 200, `round ${round}: through the second`);
        const last = await newest();
        t.ok(last === onA.revision || last === onB.revision, `round ${round}: one of the two is the newest activation`);
        const settled = await eventually(async () => {
          const answers = await Promise.all([decidedBy(a), decidedBy(b), decidedBy(b), decidedBy(b), decidedBy(b)]);
          return answers.every((answer) => answer.revision === last);
        }, 3000);
        if (!settled) {
          const seen = await Promise.all([decidedBy(a), decidedBy(b), decidedBy(b)]);
          disagreements.push(`round ${round}: newest ${last}, served ${seen.map((s) => s.revision).join(', ')}`);
        }
        const listed = await must(send(b, 'GET', '/v1/policies'), 'list');
        t.equal((listed.active as { revision: string }).revision, last, `round ${round}: the list names it active`);
      }
      t.same(disagreements, [], 'every process ended on the activation committed last');
    });
  },
);
