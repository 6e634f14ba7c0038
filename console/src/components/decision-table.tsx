// A table of decision-log entries, newest first as given: each row opens its decision, and says
// who asked what about which resource, the answer (or the refusal) and the policy revision.
import type { DecisionEntry } from '../api.ts';
import { formatTime, shortRevision } from '../format.ts';
import { href, navigate } from '../route.ts';
import { Verdict } from './ui.tsx';

export function DecisionTable({ entries, caption }: { entries: readonly DecisionEntry[]; caption: string }) {
  if (entries.length === 0) return <p role="status">No decisions match.</p>;
  return (
    <div class="table-wrap">
      <table class="stack">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Subject</th>
            <th scope="col">Action</th>
            <th scope="col">Resource</th>
            <th scope="col">Answer</th>
            <th scope="col">Reasons</th>
            <th scope="col">Revision</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr
              key={entry.decision_id}
              class="clickable"
              onClick={(event) => {
                if ((event.target as HTMLElement).closest('a') === null) navigate(['decisions', entry.decision_id]);
              }}
            >
              <td data-label="Time">
                {/* Named by the time it shows, then the id that tells rows of the same second apart. */}
                <a
                  href={href(['decisions', entry.decision_id])}
                  aria-label={`${formatTime(entry.decided_at)}: decision ${entry.decision_id}`}
                >
                  {formatTime(entry.decided_at)}
                </a>
              </td>
              <td data-label="Subject">{entry.subject?.id ?? '—'}</td>
              <td data-label="Action">{entry.action ?? '—'}</td>
              <td data-label="Resource">
                {entry.resource === null ? '—' : `${entry.resource.type} ${entry.resource.id ?? ''}`.trim()}
              </td>
              <td data-label="Answer">
                {entry.error === null ? <Verdict allow={entry.allow} /> : <span class="verdict refused">refused</span>}
              </td>
              <td data-label="Reasons">{entry.error === null ? entry.reason_codes.join(', ') : entry.error.code}</td>
              <td data-label="Revision">
                <code>{shortRevision(entry.policy_revision)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
