// Loads what a page shows and loads again when its inputs change; a later load wins over an
// earlier one still on its way, so a slow answer never replaces a newer one.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/**
 * `again`: when only it changes (a count bumped after a change the page made), the load is made
 * again and what is shown stays until the new answer, instead of a "Loading" in its place.
 */
export function useLoad<T>(load: () => Promise<T>, inputs: readonly unknown[], again?: unknown): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const latest = useRef(0);
  // New inputs drop what was shown for the old ones (rows of other filters must not sit under the
  // new ones while the answer is on its way); a reload keeps it on screen until the new answer.
  const fetchData = useCallback((keep: boolean) => {
    const call = ++latest.current;
    setState((previous) => (keep ? { ...previous, loading: true } : { data: undefined, error: null, loading: true }));
    load().then(
      (data) => {
        if (call === latest.current) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (call !== latest.current) return;
        const failure =
          error instanceof ApiError
            ? error
            : new ApiError(0, 'console_error', (error as Error).message ?? String(error));
        setState({ data: undefined, error: failure, loading: false });
      },
    );
    // Dependencies: the caller names what the load depends on
  }, inputs);
  const loaded = useRef<typeof fetchData | null>(null);
  useEffect(() => {
    const same = loaded.current === fetchData;
    loaded.current = fetchData;
    fetchData(same);
  }, [fetchData, again]);
  return { ...state, reload: () => fetchData(true) };
}
