// A revision's Rego files as the API serves them. A revision id is computed from the bundle's
// files, so a file read once under it never changes: kept for the page's life, read again never.
import { client, ok, type Schemas } from '../../api.ts';
import { linesDiffer } from '../../components/line-diff.ts';

export type RevisionDetail = Schemas['PolicyRevisionDetail'];

const texts = new Map<string, Promise<string>>();

export function sourceText(revision: string, path: string): Promise<string> {
  const key = `${revision}\0${path}`;
  let text = texts.get(key);
  if (text === undefined) {
    text = ok(
      client.GET('/v1/policies/{revision}/source', {
        params: { path: { revision }, query: { path } },
        parseAs: 'text',
      }),
    );
    // A failure is not kept: asking again may succeed.
    text.catch(() => texts.delete(key));
    texts.set(key, text);
  }
  return text;
}

export type FileChange = 'added' | 'removed' | 'changed' | 'same';

export interface ComparedFile {
  path: string;
  change: FileChange;
}

/** Every file of either revision, in path order, and how it changed from `base` to `revision`. */
export async function compareSources(base: RevisionDetail, revision: RevisionDetail): Promise<ComparedFile[]> {
  const paths = [...new Set([...base.sources, ...revision.sources])].sort();
  return Promise.all(
    paths.map(async (path): Promise<ComparedFile> => {
      if (!base.sources.includes(path)) return { path, change: 'added' };
      if (!revision.sources.includes(path)) return { path, change: 'removed' };
      const [before, after] = await Promise.all([sourceText(base.revision, path), sourceText(revision.revision, path)]);
      return { path, change: linesDiffer(before, after) ? 'changed' : 'same' };
    }),
  );
}
