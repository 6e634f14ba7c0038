// Impact analysis: replay logged decisions through a revision and count what it would change, with
// progress while it runs (the API's NDJSON answer) and samples linked to the decisions they are.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, authorizedFetch, type Schemas, asApiError } from '../../api.ts';
import { Field, Problem, TimeField, Verdict } from '../../components/ui.tsx';
import { formatTime, shortRevision } from '../../format.ts';
import { href } from '../../route.ts';

type Report = Schemas['ImpactReport'];
type Request = Schemas['ImpactRequest'];

interface Progress {
  replayed: number;
  scanned: number;
}

interface Draft {
  since: string;
  until: string;
  subject_id: string;
  action: string;
  limit: string;
}

const KIND: Record<Report['samples'][number]['kind'], string> = {
  allow_to_deny: 'allow → deny',
  deny_to_allow: 'deny → allow',
  reasons_changed: 'reasons changed',
};

function requestOf(draft: Draft): Request {
  const request: Request = {};
  if (draft.since !== '') request.since = draft.since;
  if (draft.until !== '') request.until = draft.until;
  if (draft.subject_id.trim() !== '') request.subject_id = draft.subject_id.trim();
  if (draft.action.trim() !== '') request.action = draft.action.trim();
  if (draft.limit !== '') request.limit = Number(draft.limit);
  return request;
}

/** Runs the analysis, calling onProgress for each progress line; the report, or the error it ended with. */
async function analyze(
  revision: string,
  request: Request,
  signal: AbortSignal,
  onProgress: (progress: Progress) => void,
): Promise<Report> {
  const response = await authorizedFetch(`/v1/policies/${encodeURIComponent(revision)}/impact`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify(request),
    signal,
  });
  if (response.body === null) throw new ApiError(response.status, 'unexpected_answer', 'the answer had no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value !== undefined) pending += value;
    const lines = pending.split('\n');
    pending = done ? '' : (lines.pop() ?? '');
    for (const line of lines) {
      if (line.trim() === '') continue;
      const message = JSON.parse(line) as {
        progress?: Progress;
        report?: Report;
        error?: { code: string; message: string };
      };
      if (message.progress !== undefined) onProgress(message.progress);
      if (message.report !== undefined) return message.report;
      if (message.error !== undefined) {
        throw new ApiError(response.status, message.error.code, `the analysis stopped: ${message.error.message}`);
      }
    }
    if (done) throw new ApiError(response.status, 'unexpected_answer', 'the answer ended without a report');
  }
}

export function ImpactAnalysis({ revision }: { revision: string }) {
  const [draft, setDraft] = useState<Draft>({ since: '', until: '', subject_id: '', action: '', limit: '' });
  const [progress, setProgress] = useState<Progress | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const running = useRef<AbortController | null>(null);
  const [busy, setBusy] = useState(false);
  // Another revision, or leaving the page, stops a replay under way (the service stops with it).
  useEffect(() => {
    setReport(null);
    setError(null);
    setProgress(null);
    return () => running.current?.abort();
  }, [revision]);
  const run = async () => {
    const controller = new AbortController();
    running.current = controller;
    setBusy(true);
    setError(null);
    setReport(null);
    setProgress({ replayed: 0, scanned: 0 });
    try {
      setReport(await analyze(revision, requestOf(draft), controller.signal, setProgress));
    } catch (failure) {
      if (controller.signal.aborted) setError(new ApiError(0, 'stopped', 'the analysis was stopped'));
      else setError(asApiError(failure));
    } finally {
      if (running.current === controller) running.current = null;
      setBusy(false);
      setProgress(null);
    }
  };
  const set = (name: keyof Draft) => (value: string) => setDraft({ ...draft, [name]: value });
  return (
    <section aria-label="Impact analysis">
      <h3>Impact analysis</h3>
      <p>
        Replays logged decisions, newest first, through revision <code>{shortRevision(revision)}</code> on the input and
        facts each was decided on, and counts the answers that would change. Leave a field empty for no limit.
      </p>
      <form
        class="filters"
        aria-label="Impact analysis"
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
      >
        <TimeField label="Decided from" value={draft.since} onValue={(value) => set('since')(value ?? '')} />
        <TimeField label="Decided before" value={draft.until} onValue={(value) => set('until')(value ?? '')} />
        <Field label="Subject" value={draft.subject_id} onValue={set('subject_id')} />
        <Field label="Action" value={draft.action} onValue={set('action')} />
        <Field
          label="At most (decisions)"
          type="number"
          step={1}
          placeholder="100000"
          value={draft.limit}
          onValue={set('limit')}
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Analysing…' : 'Run impact analysis'}
          </button>
          {busy ? (
            <button type="button" onClick={() => running.current?.abort()}>
              Stop
            </button>
          ) : null}
        </div>
      </form>
      {progress === null ? null : (
        <p role="status">
          Replaying: {progress.replayed.toLocaleString()} replayed of {progress.scanned.toLocaleString()} read so far…
        </p>
      )}
      <Problem error={error} />
      {report === null ? null : <ImpactReport report={report} />}
    </section>
  );
}

function ImpactReport({ report }: { report: Report }) {
  const counts: Array<[string, number, string]> = [
    ['Replayed', report.replayed, 'decisions evaluated through the revision'],
    ['Unchanged', report.unchanged, 'same answer and reasons'],
    ['Changed', report.changed, 'the three kinds below'],
    ['Allow → deny', report.allow_to_deny, 'allowed then, denied now'],
    ['Deny → allow', report.deny_to_allow, 'denied then, allowed now'],
    ['Reasons changed', report.reasons_changed, 'same answer, other reason codes'],
    ['Not replayable', report.not_replayable, 'logged without input, or refused before the policy decided'],
    [
      'Invalid under this revision',
      report.invalid_under_candidate,
      'answered invalid_input (an input contract change)',
    ],
    ['Masked inputs replayed', report.masked_replayed, 'replayed on inputs the log policy masked'],
  ];
  const actions = Object.entries(report.by_action).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section aria-label="Impact report" class="impact-report">
      <h4>Report</h4>
      <dl class="cards counts">
        {counts.map(([name, value, note]) => (
          <div class="card" key={name}>
            <dt>{name}</dt>
            <dd class="figure">{value.toLocaleString()}</dd>
            <dd class="note">{note}</dd>
          </div>
        ))}
      </dl>
      {report.truncated ? (
        <p>The limit stopped the replay before the oldest decision of the window: older ones were not replayed.</p>
      ) : null}
      {actions.length === 0 ? null : (
        <div class="table-wrap">
          <table class="stack">
            <caption>Changes by action</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Changed</th>
                <th scope="col">Allow → deny</th>
                <th scope="col">Deny → allow</th>
                <th scope="col">Reasons changed</th>
              </tr>
            </thead>
            <tbody>
              {actions.map(([action, c]) => (
                <tr key={action}>
                  <td data-label="Action">{action}</td>
                  <td data-label="Changed">{c.changed}</td>
                  <td data-label="Allow → deny">{c.allow_to_deny}</td>
                  <td data-label="Deny → allow">{c.deny_to_allow}</td>
                  <td data-label="Reasons changed">{c.reasons_changed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {report.samples.length === 0 ? (
        <p>No sample: no replayed decision changed.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <caption>Sample changes (at most 20 of each kind)</caption>
            <thead>
              <tr>
                <th scope="col">Decision</th>
                <th scope="col">Decided</th>
                <th scope="col">Action</th>
                <th scope="col">Change</th>
                <th scope="col">Logged answer</th>
                <th scope="col">This revision</th>
              </tr>
            </thead>
            <tbody>
              {report.samples.map((sample) => (
                <tr key={sample.decision_id}>
                  <td data-label="Decision">
                    <a href={href(['decisions', sample.decision_id])}>
                      <code>{sample.decision_id}</code>
                    </a>
                  </td>
                  <td data-label="Decided">{formatTime(sample.decided_at)}</td>
                  <td data-label="Action">{sample.action ?? '—'}</td>
                  <td data-label="Change">{KIND[sample.kind]}</td>
                  <td data-label="Logged answer">
                    <Verdict allow={sample.before.allow} /> {sample.before.reasons.join(', ')}
                  </td>
                  <td data-label="This revision">
                    <Verdict allow={sample.after.allow} /> {sample.after.reasons.join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
