// One decision: the answer and each reason with its message, the input the policy saw (facts
// included) with masked places marked, who asked, timings, batch siblings, and a replay on the
// active (or a chosen) revision.
import { useState } from 'preact/hooks';
import { type ApiError, client, type DecisionEntry, ok, type Schemas, asApiError } from '../api.ts';
import { JsonTree } from '../components/json-tree.tsx';
import { Choice, Loading, Problem, Section, Verdict } from '../components/ui.tsx';
import { formatMicros, formatTime, shortRevision } from '../format.ts';
import { isDecisionId } from '../ids.ts';
import type { PageProps } from '../main.tsx';
import { href } from '../route.ts';
import { useLoad } from '../use-load.ts';
import { DecisionTable } from '../components/decision-table.tsx';

interface Reason {
  code: string;
  message?: string;
}

/** The reasons of a logged answer: {allow, reasons: [{code, message}]} for a decision. */
function reasonsOf(entry: DecisionEntry): Reason[] {
  const reasons = (entry.result as { reasons?: unknown }).reasons;
  if (!Array.isArray(reasons)) return entry.reason_codes.map((code) => ({ code }));
  return reasons.map((reason) =>
    typeof reason === 'object' && reason !== null
      ? { code: String((reason as Reason).code), message: String((reason as Reason).message ?? '') }
      : { code: String(reason) },
  );
}

export function DecisionPage({ route, self }: PageProps) {
  const id = route.parts[1] ?? '';
  if (!isDecisionId(id)) {
    return (
      <>
        <h1>Decision</h1>
        <p role="alert">“{id}” is not a decision id: a decision id is a UUID.</p>
        <p>
          <a href={href(['decisions'])}>Back to decisions</a>
        </p>
      </>
    );
  }
  return <DecisionView id={id} self={self} />;
}

function DecisionView({ id, self }: { id: string; self: PageProps['self'] }) {
  const entry = useLoad(
    () => ok(client.GET('/v1/decisions/{decisionId}', { params: { path: { decisionId: id } } })),
    [id],
  );
  if (entry.error !== null) {
    return (
      <>
        <h1>Decision</h1>
        <Problem error={entry.error} />
        <p>
          <a href={href(['decisions'])}>Back to decisions</a>
        </p>
      </>
    );
  }
  if (entry.data === undefined) return <Loading what="the decision" />;
  const d = entry.data;
  const marked = new Map(
    d.masked.map((mask) => [
      mask.path,
      mask.op === 'escape'
        ? 'characters made visible'
        : mask.op === 'remove'
          ? 'masked (removed)'
          : 'masked (replaced)',
    ]),
  );
  return (
    <>
      <p>
        <a href={href(['decisions'])}>Back to decisions</a>
      </p>
      <h1>
        Decision <code>{d.decision_id}</code>
      </h1>
      <Section title="Answer">
        <p class="answer">
          {d.error === null ? <Verdict allow={d.allow} /> : <span class="verdict refused">refused</span>}{' '}
          {d.subject?.id ?? '(no subject)'} · {d.action ?? '(no action)'} ·{' '}
          {d.resource === null ? '(no resource)' : `${d.resource.type} ${d.resource.id ?? ''}`}
        </p>
        {d.error === null ? null : (
          <p class="problem">
            Refused without a decision: <code>{d.error.code}</code> — {d.error.message}
          </p>
        )}
        {d.allow === null ? (
          <ListOutcome result={d.result} />
        ) : (
          <ul class="reasons" aria-label="Reasons">
            {reasonsOf(d).map((reason) => (
              <li key={reason.code}>
                <code>{reason.code}</code>
                {reason.message ? ` — ${reason.message}` : ''}
              </li>
            ))}
          </ul>
        )}
        <dl class="facts">
          <dt>Decided at</dt>
          <dd>{formatTime(d.decided_at)}</dd>
          <dt>Asked by</dt>
          <dd>{d.token_name ?? d.token_id ?? '—'}</dd>
          <dt>Endpoint</dt>
          <dd>{d.endpoint}</dd>
          <dt>Revision</dt>
          <dd>
            <code title={d.policy_revision ?? ''}>{shortRevision(d.policy_revision)}</code>
          </dd>
          <dt>Evaluation</dt>
          <dd>{formatMicros(d.eval_us)}</dd>
          <dt>Total</dt>
          <dd>{formatMicros(d.duration_us)}</dd>
          {d.shadow === null ? null : (
            <>
              <dt>Shadow</dt>
              <dd>
                <ShadowNote shadow={d.shadow} />
              </dd>
            </>
          )}
        </dl>
      </Section>
      <Replay entry={d} canChoose={self.scopes.includes('policy')} />
      <Section title="Input">
        {d.masked.length === 0 ? null : (
          <p>
            The log policy changed {d.masked.length === 1 ? 'one place' : `${d.masked.length} places`} of this entry:{' '}
            {d.masked.map((mask) => `${mask.path}: ${marked.get(mask.path)}`).join('; ')}.
          </p>
        )}
        {d.input === null ? (
          <p>This entry was logged without its input.</p>
        ) : (
          <JsonTree value={d.input} at="/input" marked={marked} label="Input the policy saw" />
        )}
      </Section>
      {d.batch_id === null ? null : <BatchSiblings batchId={d.batch_id} self={d.decision_id} />}
    </>
  );
}

function ShadowNote({ shadow }: { shadow: NonNullable<DecisionEntry['shadow']> }) {
  return (
    <span>
      revision <code>{shortRevision(shadow.revision)}</code> disagreed: <Verdict allow={shadow.allow} />
      {shadow.reasons.length === 0 ? '' : ` (${shadow.reasons.join(', ')})`}
    </span>
  );
}

function ListOutcome({ result }: { result: Record<string, unknown> }) {
  const allowed = Array.isArray(result.allowed) ? result.allowed.length : 0;
  const denied = Array.isArray(result.denied) ? result.denied.length : 0;
  return (
    <>
      <p>
        A list: {allowed} allowed, {denied} denied.
      </p>
      <JsonTree value={result} at="/result" label="Outcome of the list" />
    </>
  );
}

function Replay({ entry, canChoose }: { entry: DecisionEntry; canChoose: boolean }) {
  const [revision, setRevision] = useState('');
  const [result, setResult] = useState<Schemas['Replay'] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const revisions = useLoad(() => (canChoose ? ok(client.GET('/v1/policies')) : Promise.resolve(null)), [canChoose]);
  const replay = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(
        await ok(
          client.POST('/v1/decisions/{decisionId}/replay', {
            params: { path: { decisionId: entry.decision_id } },
            body: revision === '' ? {} : { revision },
          }),
        ),
      );
    } catch (failure) {
      setResult(null);
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  const choices: Array<[string, string]> = [['', 'the active revision']];
  for (const stored of revisions.data?.revisions ?? []) {
    choices.push([
      stored.revision,
      `${shortRevision(stored.revision)}${stored.active ? ' (active)' : ''}${stored.shadow ? ' (shadow)' : ''}`,
    ]);
  }
  return (
    <Section title="Replay">
      <div class="toolbar">
        {canChoose ? <Choice label="Replay with" value={revision} onValue={setRevision} options={choices} /> : null}
        <button type="button" disabled={busy} onClick={replay}>
          {revision === '' ? 'Replay on the active revision' : 'Replay on this revision'}
        </button>
      </div>
      <Problem error={error} />
      {result === null ? null : <ReplayResult replay={result} />}
    </Section>
  );
}

const WHY: Record<string, string> = {
  list_entry: 'it is a list query: ask the list again',
  logged_without_input: 'it was logged without its input',
  refused: 'it was refused before the policy decided',
};

function ReplayResult({ replay }: { replay: Schemas['Replay'] }) {
  if (!replay.replayable || replay.after === null) {
    return (
      <p role="status">This decision cannot be replayed: {WHY[replay.why ?? ''] ?? replay.why ?? 'no reason given'}.</p>
    );
  }
  return (
    <div role="status" class={replay.differs ? 'replay differs' : 'replay same'}>
      <p>
        <strong>{replay.differs ? 'The answer would differ today.' : 'Same answer today.'}</strong> Revision{' '}
        <code>{shortRevision(replay.revision)}</code> answers <Verdict allow={replay.after.allow} />; logged:{' '}
        <Verdict allow={replay.before.allow} /> by <code>{shortRevision(replay.before.policy_revision)}</code>.
      </p>
      <ul class="reasons" aria-label="Reasons now">
        {replay.after.reasons.map((reason) => (
          <li key={reason.code}>
            <code>{reason.code}</code> — {reason.message}
          </li>
        ))}
      </ul>
      {replay.masked.length === 0 ? null : (
        <p>Replayed on the input as logged, masked at {replay.masked.join(', ')}.</p>
      )}
    </div>
  );
}

function BatchSiblings({ batchId, self }: { batchId: string; self: string }) {
  const siblings = useLoad(
    () => ok(client.GET('/v1/decisions', { params: { query: { batch_id: batchId, limit: 200 } } })),
    [batchId],
  );
  return (
    <Section title="Same batch">
      <Problem error={siblings.error} />
      {siblings.data === undefined ? null : (
        <DecisionTable
          entries={siblings.data.decisions.filter((entry) => entry.decision_id !== self)}
          caption={`The other decisions of batch ${batchId}`}
        />
      )}
    </Section>
  );
}
