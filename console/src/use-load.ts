// Loads what a page shows and reloads when its inputs change; a later load wins over an earlier
// one still on its way, so a slow answer never replaces a newer one.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, inputs: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const latest = useRef(0);
  const run = useCallback(() => {
    const call = ++latest.current;
    setState((previous) => ({ ...previous, loading: true }));
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
  useEffect(run, [run]);
  return { ...state, reload: run };
}
