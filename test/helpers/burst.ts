// Bursts of decisions against a running service, with a signal sent in the middle, and the check
// that the decision log holds exactly what the callers were answered: each decision of a 200 once,
// with the allow the caller got; a 503 made on the way to a decision as the refused entry it names;
// nothing for a 503 made before any decision (the service stopping) or for no answer at all (a
// connection refused or reset before a response).
import type { Test } from 'tap';
import type { ServerProcess } from './server-process.ts';

/** One request as its caller saw it. */
export interface Answer {
  /** null: no answer at all (refused or reset before a response). */
  status: number | null;
  /** The decisions a 200 carried, each with the allow the caller got. */
  decisions: Array<{ id: string; allow: boolean }>;
  /** What a non-200 answer said. */
  error?: { code?: string; details?: { decision_id?: string; batch_id?: string } } | undefined;
  body?: string;
}

/** Posts a decision request (single or batch) as a caller does; never throws. */
export async function ask(
  server: Pick<ServerProcess, 'base' | 'token'>,
  path: string,
  body: object,
  token = server.token,
): Promise<Answer> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${server.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    text = await response.text();
  } catch {
    return { status: null, decisions: [] };
  }
  let parsed: {
    decision_id?: string;
    allow?: boolean;
    results?: Array<{ decision_id: string; allow: boolean }>;
    error?: Answer['error'];
  } = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text below
  }
  if (response.status !== 200)
    return { status: response.status, decisions: [], error: parsed.error, body: text.slice(0, 300) };
  const decisions = parsed.results
    ? parsed.results.map((r) => ({ id: r.decision_id, allow: r.allow }))
    : [{ id: parsed.decision_id as string, allow: parsed.allow as boolean }];
  return { status: 200, decisions };
}

/**
 * Runs the jobs with at most width in flight; after each answer calls onAnswer with the number
 * answered so far (a test sends its signal from there, mid-burst). Returns every answer.
 */
export async function burst(
  jobs: Array<() => Promise<Answer>>,
  width: number,
  onAnswer: (answered: number) => void = () => undefined,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++] as () => Promise<Answer>;
        answers.push(await job());
        onAnswer(answers.length);
      }
    }),
  );
  return answers;
}

/** The decisions of the 200 answers. */
export const answeredDecisions = (answers: Answer[]) => answers.flatMap((a) => (a.status === 200 ? a.decisions : []));

interface LoggedRow {
  id: string;
  allow: boolean | null;
  batch_id: string | null;
  refused: boolean;
}

/**
 * Checks the log against the answers: every 200's decisions exactly once with the allow given;
 * every other answer a 503 or none; a 503 naming an entry (or a batch) logged as refused; and no
 * entry that no answer accounts for — unless the process was killed (kill -9), when a request in
 * flight may be logged without its answer reaching the caller. earlier: decisions answered before
 * the burst, logged too.
 */
export async function checkLogAgainstAnswers(
  t: Test,
  server: Pick<ServerProcess, 'query'>,
  answers: Answer[],
  earlier: Array<{ id: string; allow: boolean }> = [],
  { unansweredMayBeLogged = false } = {},
): Promise<void> {
  const rows = await server.query<LoggedRow>(
    'select decision_id::text as id, allow, batch_id::text as batch_id, error is not null as refused from decision_log',
  );
  const byId = new Map<string, LoggedRow[]>();
  for (const row of rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);

  const given = [...earlier, ...answeredDecisions(answers)];
  const wrong = given.flatMap(({ id, allow }) => {
    const logged = byId.get(id) ?? [];
    if (logged.length !== 1) return [`${id}: answered allow=${allow}, logged ${logged.length} times`];
    return logged[0]?.allow === allow ? [] : [`${id}: answered allow=${allow}, logged allow=${logged[0]?.allow}`];
  });
  t.same(wrong, [], `each of the ${given.length} decisions answered 200 is logged once, with the allow the caller got`);

  const others = answers.filter((a) => a.status !== 200);
  const unexpected = others.filter((a) => a.status !== null && a.status !== 503);
  t.same(
    unexpected.map((a) => `${a.status} ${a.body}`),
    [],
    'every other answer is a 503 or none at all',
  );
  const named = new Set<string>();
  for (const answer of others) {
    const details = answer.error?.details;
    if (details?.decision_id !== undefined) named.add(details.decision_id);
    if (details?.batch_id !== undefined)
      for (const row of rows) if (row.batch_id === details.batch_id) named.add(row.id);
  }
  const notRefused = [...named].filter((id) => (byId.get(id) ?? []).some((row) => row.allow !== false || !row.refused));
  t.same(notRefused, [], 'a 503 that names its entry finds it logged as refused');

  const accounted = new Set([...given.map((d) => d.id), ...named]);
  if (!unansweredMayBeLogged)
    t.same(
      rows.filter((row) => !accounted.has(row.id)).map((row) => row.id),
      [],
      'no entry for a 503 made before any decision, or for no answer',
    );
  t.comment(
    `${given.length} decisions answered, ${others.filter((a) => a.status === 503).length} answers 503, ${others.filter((a) => a.status === null).length} none`,
  );
}
