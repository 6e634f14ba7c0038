// How values read on screen: times in the viewer's zone with the date, durations in ms.
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { hour12: false });
}

export function formatMicros(us: number | null | undefined): string {
  if (us === null || us === undefined) return '—';
  return us < 1000 ? `${Math.round(us)} µs` : `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

/** A revision id is 32 hex digits; its first 12 tell revisions apart on screen. */
export function shortRevision(revision: string | null | undefined): string {
  return revision === null || revision === undefined ? '—' : revision.slice(0, 12);
}

/** A datetime-local field's value (the viewer's zone) as an ISO instant, or undefined when empty. */
export function instantOf(local: string): string | undefined {
  if (local === '') return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** An ISO instant as a datetime-local field's value. */
export function localOf(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number, digits = 2) => String(n).padStart(digits, '0');
  // A datetime-local field takes years of four digits or more (0999, not 999), and none before 1.
  const year = date.getFullYear();
  if (year < 1) return '';
  return `${pad(year, 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
