// The stored revisions for the policies page: the first page, read again whenever an activation or
// rollback moves the marks, and further pages on demand (GET /v1/policies, newest first).
import { useState } from 'preact/hooks';
import { type ApiError, client, ok, type Schemas, asApiError } from '../../api.ts';
import { useLoad } from '../../use-load.ts';

type Revision = Schemas['PolicyRevision'];

const PAGE_SIZE = 100;

/**
 * The first page of revisions, read again when `generation` changes (shown until the new answer),
 * and further pages on demand.
 */
export function useRevisions(generation: number) {
  const first = useLoad(
    () => ok(client.GET('/v1/policies', { params: { query: { limit: PAGE_SIZE } } })),
    [],
    generation,
  );
  const [more, setMore] = useState<{ generation: number; revisions: Revision[]; next: string | null } | null>(null);
  const [moreError, setMoreError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  // Pages read before the marks moved are stale: start again from the first.
  const extra = more?.generation === generation ? more : null;
  const next = extra === null ? (first.data?.next_cursor ?? null) : extra.next;
  const loadMore = async () => {
    if (next === null) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await ok(client.GET('/v1/policies', { params: { query: { limit: PAGE_SIZE, cursor: next } } }));
      setMore({ generation, revisions: [...(extra?.revisions ?? []), ...page.revisions], next: page.next_cursor });
    } catch (failure) {
      setMoreError(asApiError(failure));
    } finally {
      setLoadingMore(false);
    }
  };
  return {
    first: first.data,
    error: first.error,
    revisions: [...(first.data?.revisions ?? []), ...(extra?.revisions ?? [])],
    next,
    loadMore,
    loadingMore,
    moreError,
  };
}
