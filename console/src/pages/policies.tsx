// Policies: the stored revisions with the active and shadow ones marked, upload of a bundle, one
// revision's Rego (or its diff from another), impact analysis, and activation and rollback, each
// confirmed by name first. The chosen revision, file and comparison live in the URL:
// #/policies/<revision>?file=<path>&compare=<revision>.
import { useEffect, useRef, useState } from 'preact/hooks';
import { client, ok, type Schemas } from '../api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Loading, Problem, Section } from '../components/ui.tsx';
import { formatTime, shortRevision } from '../format.ts';
import { isRevision } from '../ids.ts';
import type { PageProps } from '../main.tsx';
import { href, navigate } from '../route.ts';
import { RevisionView } from './policies/revision.tsx';
import { sizeOf, StateMarks } from './policies/state-marks.tsx';
import { UploadForm } from './policies/upload.tsx';
import { useRevisions } from './policies/use-revisions.ts';

type Revision = Schemas['PolicyRevision'];
type Activation = Schemas['PolicyActivation'];

type Asking = { kind: 'activate'; revision: string } | { kind: 'rollback'; from: string; to: string };

export function PoliciesPage({ route }: PageProps) {
  const selected = route.parts[1] ?? null;
  const compare = route.query.get('compare') || null;
  const [generation, setGeneration] = useState(0);
  const changed = () => setGeneration((n) => n + 1);
  const list = useRevisions(generation);
  const [asking, setAsking] = useState<Asking | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const noticeText = useRef<HTMLParagraphElement>(null);
  const noticeToFocus = useRef(false);
  const active = list.first?.active ?? null;
  // A confirmed change gives the focus back to its button, which the change itself disables (the
  // active revision cannot be activated again; a rollback may leave none to roll back to): the
  // keyboard goes on from what was done instead. Once its dialog has closed: a modal dialog makes
  // the rest of the page inert, so the notice cannot take the focus while it is open, and closing
  // it hands the focus back to its opener.
  useEffect(() => {
    if (asking !== null || !noticeToFocus.current) return;
    noticeToFocus.current = false;
    noticeText.current?.focus();
  }, [notice, asking]);

  const activate = async (revision: string) => {
    const done = await ok(client.POST('/v1/policies/{revision}/activate', { params: { path: { revision } } }));
    noticeToFocus.current = true;
    setNotice(`Revision ${shortRevision(done.revision)} is active (${formatTime(done.activated_at)}).`);
    changed();
  };
  const rollback = async () => {
    const done = await ok(client.POST('/v1/policies/rollback'));
    noticeToFocus.current = true;
    setNotice(
      `Rolled back: revision ${shortRevision(done.revision)} is active again (${formatTime(done.activated_at)}).`,
    );
    changed();
  };

  return (
    <>
      <h1>Policies</h1>
      {notice === null ? null : (
        <p role="status" class="notice" ref={noticeText} tabIndex={-1}>
          {notice}
        </p>
      )}
      <Problem error={list.error} />
      {list.first === undefined ? (
        list.error === null ? (
          <Loading what="policy revisions" />
        ) : null
      ) : (
        <>
          <ActiveSummary
            active={active}
            shadow={list.first.shadow}
            onRollback={(from, to) => setAsking({ kind: 'rollback', from, to })}
          />
          <Section title="Revisions">
            <RevisionTable revisions={list.revisions} active={active} selected={selected} />
            {list.next === null ? null : (
              <button type="button" disabled={list.loadingMore} onClick={list.loadMore}>
                More revisions
              </button>
            )}
            <Problem error={list.moreError} />
          </Section>
        </>
      )}
      <UploadForm onUploaded={changed} />
      {selected === null ? (
        <p class="hint">Choose a revision above to read its Rego, compare it, analyse its impact or activate it.</p>
      ) : !isRevision(selected) ? (
        <p role="alert">“{selected}” is not a revision id: a revision id is 32 lowercase hex digits.</p>
      ) : compare !== null && !isRevision(compare) ? (
        <p role="alert">
          “{compare}” (compare with) is not a revision id: a revision id is 32 lowercase hex digits.{' '}
          <a href={href(['policies', selected])}>The revision alone</a>
        </p>
      ) : (
        <RevisionView
          revision={selected}
          revisions={list.revisions}
          file={route.query.get('file')}
          compare={compare === selected ? null : compare}
          generation={generation}
          onActivate={(revision) => setAsking({ kind: 'activate', revision })}
          onChanged={changed}
        />
      )}
      {asking?.kind === 'activate' ? (
        <ConfirmDialog
          title="Activate this revision?"
          confirm="Activate revision"
          onConfirm={() => activate(asking.revision)}
          onClose={() => setAsking(null)}
        >
          <p>
            Activate revision <code>{shortRevision(asking.revision)}</code>…? Every replica will serve it within
            seconds.
          </p>
          <p class="hint">
            Full id <code>{asking.revision}</code>. It replaces{' '}
            {active === null ? 'no active revision' : <code>{shortRevision(active.revision)}</code>}, to which a
            rollback returns.
          </p>
        </ConfirmDialog>
      ) : null}
      {asking?.kind === 'rollback' ? (
        <ConfirmDialog title="Roll back?" confirm="Roll back" onConfirm={rollback} onClose={() => setAsking(null)}>
          <p>
            Roll back from revision <code>{shortRevision(asking.from)}</code> (active) to revision{' '}
            <code>{shortRevision(asking.to)}</code>, the one active before it? Every replica will serve{' '}
            <code>{shortRevision(asking.to)}</code> within seconds.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function ActiveSummary({
  active,
  shadow,
  onRollback,
}: {
  active: Activation | null;
  shadow: string | null;
  onRollback: (from: string, to: string) => void;
}) {
  const previous = active?.previous_revision ?? null;
  return (
    <Section title="Active revision">
      {active === null ? (
        <p>No revision is active.</p>
      ) : (
        <p>
          <a href={href(['policies', active.revision])}>
            <code>{shortRevision(active.revision)}</code>
          </a>{' '}
          is active since {formatTime(active.activated_at)} (
          {active.change === 'rollback' ? 'rolled back' : 'activated'} by {active.activated_by}).{' '}
          {previous === null ? (
            'It replaced none, so there is nothing to roll back to.'
          ) : (
            <>
              A rollback returns to <code>{shortRevision(previous)}</code>.
            </>
          )}
        </p>
      )}
      <p>
        Shadow:{' '}
        {shadow === null ? (
          'none'
        ) : (
          <>
            <a href={href(['policies', shadow])}>
              <code>{shortRevision(shadow)}</code>
            </a>{' '}
            evaluates every decision too;{' '}
            <a href={href(['decisions'], { shadow_differs: 'true' })}>its disagreements</a>
          </>
        )}
      </p>
      {active === null ? null : (
        <div class="toolbar">
          <button
            type="button"
            class="danger"
            disabled={previous === null}
            onClick={() => previous !== null && onRollback(active.revision, previous)}
          >
            Roll back
          </button>
        </div>
      )}
    </Section>
  );
}

function RevisionTable({
  revisions,
  active,
  selected,
}: {
  revisions: readonly Revision[];
  active: Activation | null;
  selected: string | null;
}) {
  if (revisions.length === 0) return <p role="status">No revision is stored yet: upload a bundle below.</p>;
  return (
    <div class="table-wrap">
      <table class="stack revisions">
        <caption>Stored revisions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Revision</th>
            <th scope="col">State</th>
            <th scope="col">Uploaded</th>
            <th scope="col">By</th>
            <th scope="col">Signed</th>
            <th scope="col">Size</th>
          </tr>
        </thead>
        <tbody>
          {revisions.map((revision) => (
            <tr
              key={revision.revision}
              class={revision.revision === selected ? 'clickable selected' : 'clickable'}
              onClick={(event) => {
                if ((event.target as HTMLElement).closest('a') === null) navigate(['policies', revision.revision]);
              }}
            >
              <td data-label="Revision">
                <a
                  href={href(['policies', revision.revision])}
                  aria-current={revision.revision === selected ? 'true' : undefined}
                >
                  <code>{shortRevision(revision.revision)}</code>
                </a>
              </td>
              <td data-label="State">
                <StateMarks
                  revision={revision}
                  previous={!revision.active && active?.previous_revision === revision.revision}
                />
              </td>
              <td data-label="Uploaded">{formatTime(revision.created_at)}</td>
              <td data-label="By">{revision.created_by}</td>
              <td data-label="Signed">{revision.signed ? 'signed' : 'unsigned'}</td>
              <td data-label="Size">{sizeOf(revision.size_bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
