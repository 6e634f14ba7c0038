// One revision: what it is (when, by whom, signed, active or shadow), its actions (activate, shadow),
// its Rego alone or compared with another revision, and an impact analysis of it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, client, errorOf, ok, type Schemas, asApiError } from '../../api.ts';
import { Choice, Loading, Problem } from '../../components/ui.tsx';
import { formatTime, shortRevision } from '../../format.ts';
import { navigate } from '../../route.ts';
import { useLoad } from '../../use-load.ts';
import { ImpactAnalysis } from './impact.tsx';
import { SourceView } from './source-view.tsx';
import { sizeOf, StateMarks } from './state-marks.tsx';

export interface RevisionViewProps {
  revision: string;
  /** Stored revisions, to compare with. */
  revisions: readonly Schemas['PolicyRevision'][];
  file: string | null;
  compare: string | null;
  /** Changes after an activation, rollback or shadow change, so the marks are read again. */
  generation: number;
  onActivate: (revision: string) => void;
  /** After the shadow was set or cleared here. */
  onChanged: () => void;
}

const loadDetail = (revision: string) => ok(client.GET('/v1/policies/{revision}', { params: { path: { revision } } }));

export function RevisionView(props: RevisionViewProps) {
  const { revision, revisions, file, compare, generation } = props;
  // After a change (generation), the revision stays shown until it is read again.
  const detail = useLoad(() => loadDetail(revision), [revision], generation);
  const base = useLoad(
    () => (compare === null || compare === revision ? Promise.resolve(null) : loadDetail(compare)),
    [compare, revision],
  );
  const shadow = useShadow(props.onChanged);
  const heading = useRef<HTMLHeadingElement>(null);
  // Chosen from the list above: bring it into view, and the keyboard with it.
  useEffect(() => {
    heading.current?.focus();
    heading.current?.scrollIntoView({ block: 'start' });
  }, [revision]);
  // A load under way keeps the answer before it: show it only if it is for what is asked now.
  const d = detail.data?.revision === revision ? detail.data : undefined;
  const compared = compare !== null && base.data?.revision === compare ? base.data : null;
  const choices: Array<[string, string]> = [['', 'nothing: show its files']];
  for (const other of revisions) {
    if (other.revision === revision) continue;
    const marks = [other.active ? 'active' : '', other.shadow ? 'shadow' : ''].filter((mark) => mark !== '');
    choices.push([
      other.revision,
      `${shortRevision(other.revision)}${marks.length === 0 ? '' : ` (${marks.join(', ')})`}, ${formatTime(other.created_at)}`,
    ]);
  }
  return (
    <section aria-labelledby="revision-heading" class="revision">
      <h2 id="revision-heading" ref={heading} tabIndex={-1}>
        Revision <code>{shortRevision(revision)}</code>
      </h2>
      <Problem error={detail.error} />
      {d === undefined ? (
        detail.error === null ? (
          <Loading what="the revision" />
        ) : null
      ) : (
        <>
          <dl class="facts">
            <dt>Revision</dt>
            <dd>
              <code>{d.revision}</code>
            </dd>
            <dt>State</dt>
            <dd>
              <StateMarks revision={d} />
            </dd>
            <dt>Uploaded</dt>
            <dd>
              {formatTime(d.created_at)} by {d.created_by}
            </dd>
            <dt>Signed</dt>
            <dd>{d.signed ? 'yes: its signature verified against the configured key' : 'no'}</dd>
            <dt>Contract</dt>
            <dd>{d.contract}</dd>
            <dt>Size</dt>
            <dd>{sizeOf(d.size_bytes)}</dd>
          </dl>
          <div class="toolbar">
            <button type="button" class="danger" disabled={d.active} onClick={() => props.onActivate(d.revision)}>
              Activate
            </button>
            {d.shadow ? (
              <button type="button" disabled={shadow.busy} onClick={() => shadow.set(null)}>
                Stop shadow evaluation
              </button>
            ) : (
              <button type="button" disabled={d.active || shadow.busy} onClick={() => shadow.set(d.revision)}>
                Evaluate as shadow
              </button>
            )}
          </div>
          <Problem error={shadow.error} />
          <p class="hint">
            {d.active
              ? 'This revision is active: every decision is made by it.'
              : d.shadow
                ? 'Every decision is also evaluated by this revision; the log keeps where it disagreed.'
                : 'A shadow evaluates every decision with this revision too, without changing the answer, and keeps each disagreement on the log entry.'}
          </p>
          <h3>Rego</h3>
          <div class="toolbar">
            <Choice
              label="Compare with"
              value={compare ?? ''}
              onValue={(value) =>
                navigate(['policies', revision], { compare: value === '' ? undefined : value, file: file ?? undefined })
              }
              options={choices}
            />
          </div>
          <Problem error={base.error} />
          {compare !== null && compared === null && base.error === null ? (
            <Loading what="the revision compared with" />
          ) : base.error === null ? (
            <SourceView detail={d} base={compared} file={file} compare={compare} />
          ) : null}
          <ImpactAnalysis revision={d.revision} />
        </>
      )}
    </section>
  );
}

/** Sets the shadow revision (null: none). It changes no answer, so it asks no confirmation. */
function useShadow(onChanged: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const set = async (revision: string | null) => {
    setBusy(true);
    setError(null);
    try {
      if (revision === null) {
        // 204: no body for ok() to hand back.
        const { response, error } = await client.DELETE('/v1/policies/shadow');
        if (!response.ok) throw errorOf(response.status, error);
      } else await ok(client.PUT('/v1/policies/shadow', { body: { revision } }));
      onChanged();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, set };
}
