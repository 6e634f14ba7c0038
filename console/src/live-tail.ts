// What the decisions page's live tail reads at each poll, apart from the page that shows it: one
// reader per run of the tail (per set of filters), holding the ids it has shown and the newest
// decision time it has read. Times are the server's decided_at values, never the browser's clock.

/**
 * Entries commit out of order (batches from several workers and replicas, each committing within a
 * second or two), so each poll after the first reads again the OVERLAP before the newest entry read
 * and keeps only ids not shown yet. An entry that reaches the log later than that (a spill replayed
 * after an outage) shows when the list is loaded again, not in the tail.
 */
export const OVERLAP_MS = 15_000;
/** Entries a request asks for. */
export const TAIL_PAGE_SIZE = 200;
/** Requests a poll makes at most. */
export const TAIL_PAGES = 10;

/** What the reader needs of an entry (the API's DecisionLogEntry has more). */
export interface TailEntry {
  decision_id: string;
  decided_at: string;
}

export interface TailPage<E extends TailEntry> {
  decisions: E[];
  next_cursor: string | null;
}

/** One request: the filters' entries since that instant (none: the filters' own since), newest first. */
export type ReadPage<E extends TailEntry> = (
  since: string | undefined,
  cursor: string | undefined,
) => Promise<TailPage<E>>;

export interface TailPoll<E extends TailEntry> {
  /** Entries not returned by an earlier poll of this reader, as the API gave them. */
  fresh: E[];
  /** The page budget ran out while pages still held new entries: some were not read. */
  behind: boolean;
}

/**
 * A reader for one run of the tail. Its first poll reads the newest page (from the filters' since,
 * if any) and starts the tail at the oldest entry on it; each later poll reads from the newest entry
 * read less OVERLAP_MS, and stops at a page holding only entries already read or older than that.
 * `stopped` is asked after each request: once it is true the poll reads no further and returns null.
 * A poll that fails or is stopped changes nothing: the next one reads the same entries again.
 */
export function tailReader<E extends TailEntry>(read: ReadPage<E>, filterSince: string | undefined) {
  const seen = new Map<string, number>();
  let newest: number | undefined;
  // Nothing older than this is read: the filters' since, then the oldest entry of a full first page.
  let floor = filterSince === undefined ? undefined : Date.parse(filterSince);
  let first = true;

  return async function poll(stopped: () => boolean): Promise<TailPoll<E> | null> {
    const from = newest === undefined ? floor : Math.max(newest - OVERLAP_MS, floor ?? Number.NEGATIVE_INFINITY);
    const since = from === undefined ? filterSince : new Date(from).toISOString();
    // What this poll reads, kept only once it has read all it will.
    const fresh = new Map<string, E>();
    let top = newest;
    let start = floor;
    let cursor: string | undefined;
    let behind = false;
    for (let pages = 1; ; pages += 1) {
      const page = await read(since, cursor);
      if (stopped()) return null;
      const added: number[] = [];
      for (const entry of page.decisions) {
        if (seen.has(entry.decision_id) || fresh.has(entry.decision_id)) continue;
        const at = Date.parse(entry.decided_at);
        fresh.set(entry.decision_id, entry);
        added.push(at);
        if (top === undefined || at > top) top = at;
      }
      cursor = page.next_cursor ?? undefined;
      if (first) {
        // The tail starts at the newest page: what is older than its last entry came before it.
        const last = page.decisions.at(-1);
        if (cursor !== undefined && last !== undefined) start = Date.parse(last.decided_at);
        break;
      }
      const edge = (top ?? Number.NEGATIVE_INFINITY) - OVERLAP_MS;
      if (cursor === undefined || !added.some((at) => at >= edge)) break;
      if (pages >= TAIL_PAGES) {
        behind = true;
        break;
      }
    }
    first = false;
    floor = start;
    newest = top;
    for (const entry of fresh.values()) seen.set(entry.decision_id, Date.parse(entry.decided_at));
    // Ids older than any window still to be read cannot come back: forget them.
    if (newest !== undefined) for (const [id, at] of seen) if (at < newest - 2 * OVERLAP_MS) seen.delete(id);
    return { fresh: [...fresh.values()], behind };
  };
}
