// A known set of single decisions over the fixture data set (test/helpers/fixtures.ts), asked
// through every endpoint that logs one (decide, its batch, OPA's Data API and its batch), so the
// revision tests know exactly what is in the decision log: who asked what, and what was answered.
import type { FastifyInstance } from 'fastify';
import { logWritten } from './app.ts';

export interface Logged {
  decisionId: string;
  endpoint: 'decide' | 'batch' | 'opa';
  subject: string | null;
  action: string | null;
  resourceId: string | null;
  allow: boolean;
  codes: string[];
}

type Question = [subject: string, action: string, type: string, id: string];

const ask = ([subject, action, type, id]: Question) => ({
  subject: { id: subject },
  action,
  resource: { type, id },
});

/** Asked one at a time through /v1/decide, first. */
export const SINGLES: Question[] = [
  ['pa', 'client.view', 'client', 'c_xero'],
  ['std_sel', 'client.view', 'client', 'c_qb'],
  ['pa', 'item.view', 'item', 'i_client'],
  ['ca', 'item.view', 'item', 'claim_std_sel'],
];

const allowedClientViews: Question[] = ['pa', 'ca', 'std_all', 'std_la'].flatMap((subject) =>
  ['c_xero', 'c_myob', 'c_qb'].map((client): Question => [subject, 'client.view', 'client', client]),
);

/** Asked in one /v1/decide/batch. */
export const BATCH: Question[] = [
  ...allowedClientViews,
  ...allowedClientViews,
  ['ea', 'client.view', 'client', 'c_xero'],
  ['ca_sel', 'client.view', 'client', 'c_myob'],
  ['std_sel', 'item.view', 'item', 'i_client'],
  ['std_sel', 'item.view', 'item', 'claim_std_sel'],
  ['pa', 'item.view', 'item', 'claim_std_sel'],
  ['ca', 'item.view', 'item', 'claim_std_sel'],
];

/** Asked through OPA's Data API, one at a time (an unknown subject is decided on its input too). */
export const OPA_SINGLES: Question[] = [
  ['std_la', 'client.view', 'client', 'c_xero'],
  ['nobody', 'client.view', 'client', 'c_xero'],
];

/** Asked through Enterprise OPA's batch API. */
export const OPA_BATCH: Record<string, Question> = {
  one: ['std_sel', 'client.view', 'client', 'c_myob'],
  two: ['pa', 'item.view', 'item', 'i_client'],
};

interface Answer {
  decision_id: string;
  allow: boolean;
  reasons: Array<{ code: string }>;
}

const logged = (endpoint: Logged['endpoint'], question: Question | null, answer: Answer): Logged => ({
  decisionId: answer.decision_id,
  endpoint,
  subject: question?.[0] ?? null,
  action: question?.[1] ?? null,
  resourceId: question?.[3] ?? null,
  allow: answer.allow,
  codes: answer.reasons.map((reason) => reason.code),
});

/**
 * Asks the singles, then (the returned `between` lies strictly between the two) the batch, the OPA
 * singles, an OPA query without input (logged without input: not replayable) and the OPA batch;
 * resolves once every answer is committed to the decision log.
 */
export async function logKnownDecisions(
  app: FastifyInstance,
  token: string,
): Promise<{ first: Logged[]; second: Logged[]; all: Logged[]; between: Date }> {
  const post = async (url: string, payload: unknown) => {
    const response = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}: ${response.body}`);
    return response.json();
  };
  const first: Logged[] = [];
  for (const question of SINGLES) first.push(logged('decide', question, await post('/v1/decide', ask(question))));

  // Decision times are kept to the millisecond: the clock moves on past the first set, and again.
  const tick = async () => {
    const now = Date.now();
    while (Date.now() <= now) await new Promise((resolve) => setTimeout(resolve, 1));
  };
  await tick();
  const between = new Date();
  await tick();

  const second: Logged[] = [];
  const batch = (await post('/v1/decide/batch', { requests: BATCH.map(ask) })).results as Answer[];
  for (const [i, answer] of batch.entries()) second.push(logged('batch', BATCH[i] as Question, answer));
  for (const question of OPA_SINGLES) {
    const body = await post('/v1/data/clearance/decision', { input: ask(question) });
    second.push(logged('opa', question, { ...body.result, decision_id: body.decision_id }));
  }
  const withoutInput = await post('/v1/data/clearance/decision', {});
  second.push(logged('opa', null, { ...withoutInput.result, decision_id: withoutInput.decision_id }));
  const inputs = Object.fromEntries(Object.entries(OPA_BATCH).map(([id, question]) => [id, ask(question)]));
  const opaBatch = (await post('/v1/batch/data/clearance/decision', { inputs })).responses as Record<
    string,
    { result: Answer; decision_id: string }
  >;
  for (const [id, question] of Object.entries(OPA_BATCH)) {
    const item = opaBatch[id] as { result: Answer; decision_id: string };
    second.push(logged('opa', question, { ...item.result, decision_id: item.decision_id }));
  }
  await logWritten(app);
  return { first, second, all: [...first, ...second], between };
}
