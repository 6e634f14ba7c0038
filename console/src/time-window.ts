// The period a summary covers: a named window ending now (the last hour, day or week) or one
// between two instants, and the bucket width that suits its length. Plain data, no DOM.

export type Bucket = 'minute' | 'hour' | 'day';

export const BUCKET_MS: Readonly<Record<Bucket, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export const WINDOWS = {
  '1h': { text: 'last hour', ms: 3_600_000 },
  '24h': { text: 'last 24 hours', ms: 86_400_000 },
  '7d': { text: 'last 7 days', ms: 7 * 86_400_000 },
} as const;
export type WindowName = keyof typeof WINDOWS;

export const isWindowName = (value: string | null): value is WindowName =>
  value !== null && Object.hasOwn(WINDOWS, value);

export const isBucket = (value: string | null): value is Bucket => value !== null && Object.hasOwn(BUCKET_MS, value);

/**
 * The bucket that draws a readable line for a window's length: by minute up to 6 hours, by hour up
 * to 14 days, then by day (the API answers at most 1,500 buckets).
 */
export function bucketFor(ms: number): Bucket {
  if (ms <= 6 * BUCKET_MS.hour) return 'minute';
  if (ms <= 14 * BUCKET_MS.day) return 'hour';
  return 'day';
}

export interface Period {
  /** A named window ending at the moment asked, or custom: between since and until as given. */
  window: WindowName | 'custom';
  since: string;
  until: string;
  /** The bucket chosen, or null for the one that suits the window. */
  chosen: Bucket | null;
  bucket: Bucket;
}

/** The period a URL's query names (window=24h, or since and until; bucket), as of now. */
export function periodOf(query: URLSearchParams, now: number): Period {
  const named = query.get('window');
  const chosenText = query.get('bucket');
  const chosen = isBucket(chosenText) ? chosenText : null;
  const custom = named === 'custom' || (!isWindowName(named) && (query.has('since') || query.has('until')));
  let since: number;
  let until: number;
  if (custom) {
    until = Date.parse(query.get('until') ?? '');
    if (Number.isNaN(until)) until = now;
    since = Date.parse(query.get('since') ?? '');
    if (Number.isNaN(since)) since = until - WINDOWS['24h'].ms;
  } else {
    until = now;
    since = now - WINDOWS[isWindowName(named) ? named : '24h'].ms;
  }
  return {
    window: custom ? 'custom' : isWindowName(named) ? named : '24h',
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    chosen,
    bucket: chosen ?? bucketFor(until - since),
  };
}
