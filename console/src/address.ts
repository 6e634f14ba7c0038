// What a page address (the URL's fragment) names, read without the browser: plain, so it is
// tested on its own (test/engine-free/console-addresses.test.ts).

export interface Route {
  /** Path segments after #/, decoded: ['decisions', '<id>']. */
  parts: string[];
  query: URLSearchParams;
  /** Why the address names no page (a part that is not valid %-encoding, or . or ..), or null. */
  unreadable: string | null;
}

/** The route a fragment names. Never throws: a crafted address is said to name no page. */
export function routeOf(fragment: string): Route {
  const hash = fragment.replace(/^#\/?/, '');
  const [path = '', search = ''] = hash.split('?', 2);
  const parts: string[] = [];
  let unreadable: string | null = null;
  for (const part of path.split('/')) {
    if (part === '') continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      unreadable = `the part “${part}” of the address is not valid %-encoding`;
      break;
    }
    // A client would send /v1/decisions/.. as /v1/: a dot segment names nothing here.
    if (decoded === '.' || decoded === '..') {
      unreadable = `the address has a part “${decoded}”`;
      break;
    }
    parts.push(decoded);
  }
  return unreadable === null
    ? { parts, query: new URLSearchParams(search), unreadable }
    : { parts: [], query: new URLSearchParams(), unreadable };
}
