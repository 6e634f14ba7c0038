// Pages are addressed by the URL's fragment, e.g. #/decisions?subject_id=sam&allow=false, so a
// filtered view can be bookmarked or shared (a fragment never reaches the server, nor its logs).
import { useEffect, useState } from 'preact/hooks';
import { type Route, routeOf } from './address.ts';

export type { Route };

export function currentRoute(): Route {
  return routeOf(window.location.hash);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** The fragment for a page: href(['decisions', id]) or href(['decisions'], {allow: 'false'}). */
export function href(parts: readonly string[], query: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return `#/${parts.map((part) => encodeURIComponent(part)).join('/')}${text === '' ? '' : `?${text}`}`;
}

export function navigate(parts: readonly string[], query: Record<string, string | undefined> = {}): void {
  window.location.hash = href(parts, query);
}
