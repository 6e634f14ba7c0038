// A revision's Rego: its files, one file's text; or, compared with another revision, each file
// added, removed, changed or unchanged, and a changed file's lines marked − and +.
import { Fragment } from 'preact';
import { type DiffLine, diffLines, hunks } from '../../components/line-diff.ts';
import { Loading, Problem } from '../../components/ui.tsx';
import { shortRevision } from '../../format.ts';
import { href } from '../../route.ts';
import { useLoad } from '../../use-load.ts';
import { type ComparedFile, compareSources, type FileChange, type RevisionDetail, sourceText } from './sources.ts';

export interface SourceViewProps {
  detail: RevisionDetail;
  /** The revision compared with, the older side of each diff; null: no comparison. */
  base: RevisionDetail | null;
  /** The file shown, or null for the first. */
  file: string | null;
  compare: string | null;
}

const CHANGE: Record<FileChange, string> = {
  added: 'added',
  removed: 'removed',
  changed: 'changed',
  same: 'unchanged',
};

/** The page's address with another file chosen (the comparison kept). */
const fileHref = (revision: string, path: string, compare: string | null) =>
  href(['policies', revision], { file: path, compare: compare ?? undefined });

/** The file to show when none is named: main.rego, which reads first, else the first. */
function defaultFile(paths: readonly string[]): string | null {
  return paths.find((path) => path.endsWith('/main.rego')) ?? paths[0] ?? null;
}

export function SourceView({ detail, base, file, compare }: SourceViewProps) {
  if (base === null) return <Files detail={detail} file={file} />;
  return <Comparison detail={detail} base={base} file={file} compare={compare} />;
}

function Files({ detail, file }: { detail: RevisionDetail; file: string | null }) {
  const shown = file !== null && detail.sources.includes(file) ? file : defaultFile(detail.sources);
  if (detail.sources.length === 0) return <p>This revision's bundle holds no Rego files.</p>;
  return (
    <div class="sources">
      <nav aria-label="Files" class="files">
        <ul>
          {detail.sources.map((path) => (
            <li key={path}>
              <a href={fileHref(detail.revision, path, null)} aria-current={path === shown ? 'true' : undefined}>
                {path}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {shown === null ? null : <FileText revision={detail.revision} path={shown} />}
    </div>
  );
}

function FileText({ revision, path }: { revision: string; path: string }) {
  const loaded = useLoad(async () => ({ path, text: await sourceText(revision, path) }), [revision, path]);
  // While another file loads, the one before is not shown under this one's name.
  const text = loaded.data?.path === path ? loaded.data.text : undefined;
  return (
    <section class="source-file" aria-label={`Source of ${path}`}>
      <h4>{path}</h4>
      <Problem error={loaded.error} />
      {text === undefined ? (
        loaded.error === null ? (
          <Loading what={path} />
        ) : null
      ) : (
        // Focusable so a keyboard can scroll a long line into view.
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
        <pre class="source" tabIndex={0}>
          {text}
        </pre>
      )}
    </section>
  );
}

function Comparison({ detail, base, file, compare }: SourceViewProps & { base: RevisionDetail }) {
  const key = `${base.revision}:${detail.revision}`;
  const files = useLoad(async () => ({ key, files: await compareSources(base, detail) }), [key]);
  if (files.error !== null) return <Problem error={files.error} />;
  const compared = files.data?.key === key ? files.data.files : undefined;
  if (compared === undefined) return <Loading what="both revisions' files" />;
  const differing = compared.filter((entry) => entry.change !== 'same');
  const shown =
    compared.find((entry) => entry.path === file) ??
    differing[0] ??
    compared.find((entry) => entry.path === defaultFile(compared.map((f) => f.path))) ??
    null;
  const count = (change: FileChange) => compared.filter((entry) => entry.change === change).length;
  return (
    <>
      <p role="status">
        From <code>{shortRevision(base.revision)}</code> to <code>{shortRevision(detail.revision)}</code>:{' '}
        {differing.length === 0
          ? 'the Rego is the same.'
          : `${count('changed')} changed, ${count('added')} added, ${count('removed')} removed, ${count('same')} unchanged.`}
      </p>
      <div class="sources">
        <nav aria-label="Files" class="files">
          <ul>
            {compared.map((entry) => (
              <li key={entry.path} class={`change-${entry.change}`}>
                <a
                  href={fileHref(detail.revision, entry.path, compare)}
                  aria-current={entry.path === shown?.path ? 'true' : undefined}
                >
                  {entry.path}
                </a>{' '}
                <span class="change">{CHANGE[entry.change]}</span>
              </li>
            ))}
          </ul>
        </nav>
        {shown === null ? null : <FileDiff base={base} detail={detail} entry={shown} />}
      </div>
    </>
  );
}

function FileDiff({ base, detail, entry }: { base: RevisionDetail; detail: RevisionDetail; entry: ComparedFile }) {
  const key = [base.revision, detail.revision, entry.path, entry.change].join('\0');
  const diff = useLoad(async () => {
    const [before, after] = await Promise.all([
      entry.change === 'added' ? '' : sourceText(base.revision, entry.path),
      entry.change === 'removed' ? '' : sourceText(detail.revision, entry.path),
    ]);
    return { key, lines: diffLines(before, after) };
  }, [key]);
  const lines = diff.data?.key === key ? diff.data.lines : undefined;
  return (
    <section class="source-file" aria-label={`Changes to ${entry.path}`}>
      <h4>
        {entry.path} <span class="change">({CHANGE[entry.change]})</span>
      </h4>
      <Problem error={diff.error} />
      {lines === undefined ? (
        diff.error === null ? (
          <Loading what="the diff" />
        ) : null
      ) : entry.change === 'same' ? (
        <p>No line of this file changed.</p>
      ) : (
        <>
          <p class="hint">
            Lines marked − are in <code>{shortRevision(base.revision)}</code> only, lines marked + in{' '}
            <code>{shortRevision(detail.revision)}</code> only; the numbers are each side's line numbers.
          </p>
          <DiffText lines={lines} />
        </>
      )}
    </section>
  );
}

const MARK: Record<DiffLine['kind'], string> = { same: ' ', removed: '−', added: '+' };

function DiffText({ lines }: { lines: DiffLine[] }) {
  const parts = hunks(lines);
  const shown = parts.reduce((sum, part) => sum + part.skipped + part.lines.length, 0);
  const skip = (n: number, key: string) => (
    <span class="skip" key={key}>
      ⋯ {n} unchanged line{n === 1 ? '' : 's'}
    </span>
  );
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
    <pre class="source diff" tabIndex={0}>
      {parts.map((part, index) => (
        <Fragment key={part.lines[0]?.before ?? part.lines[0]?.after ?? index}>
          {part.skipped > 0 ? skip(part.skipped, `skip-${index}`) : null}
          {part.lines.map((line) => (
            <span class={`line ${line.kind}`} key={`${line.before}-${line.after}`}>
              <span class="num">{line.before ?? ''}</span>
              <span class="num">{line.after ?? ''}</span>
              <span class="mark">{MARK[line.kind]}</span>
              {line.text}
            </span>
          ))}
        </Fragment>
      ))}
      {lines.length > shown ? skip(lines.length - shown, 'skip-end') : null}
    </pre>
  );
}
