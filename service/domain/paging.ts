// Keyset paging for every list the API gives out a page at a time (the facts API's records, the
// audit trail, the decision log): one page request, one cursor format, one check of a time window.
//
// Cursors are opaque to callers, but checked. A cursor names the list it belongs to and its
// position there, behind a short checksum of both, so a made-up, mistyped or truncated cursor, or
// one of another list, is refused (400 invalid_cursor) instead of being read as some position and
// answered with a wrong or empty page. The checksum is not a secret: a cursor someone computes
// by hand is only a position, which the list's own filters could reach as well.
import { createHash } from 'node:crypto';
import { badRequest } from '../errors.ts';

/** A page as the caller asks for it: how many, and where the page before ended. */
export interface PageQuery {
  limit: number;
  cursor?: string;
}

type Position = Array<string | number>;

/** How one list pages: its name (a cursor of another list is refused) and its keyset position. */
export interface Keyset<R, P extends Position> {
  list: string;
  /** The position just after a row: its keyset columns, as JSON values. */
  positionOf(row: R): P;
  /** The shapes positionOf gives, checked on the way back in. */
  isPosition(position: unknown[]): position is P;
}

const CHECK_BYTES = 6;

const checksum = (body: string) => createHash('sha256').update(body).digest().subarray(0, CHECK_BYTES);

export function encodeCursor(list: string, position: Position): string {
  const body = JSON.stringify([list, ...position]);
  return Buffer.concat([checksum(body), Buffer.from(body, 'utf8')]).toString('base64url');
}

/**
 * The position a cursor of this list holds, checked by isPosition (the shapes encodeCursor was
 * given); throws 400 invalid_cursor for anything else.
 */
export function decodeCursor<P extends Position>(
  list: string,
  cursor: string,
  isPosition: (position: unknown[]) => position is P,
): P {
  const bytes = Buffer.from(cursor, 'base64url');
  const body = bytes.subarray(CHECK_BYTES).toString('utf8');
  // The same bytes have one base64url spelling: a cursor with characters dropped or added is not the one given out.
  const intact = bytes.length > CHECK_BYTES && bytes.toString('base64url') === cursor;
  if (intact && checksum(body).equals(bytes.subarray(0, CHECK_BYTES))) {
    try {
      const [owner, ...position] = JSON.parse(body) as unknown[];
      if (owner === list && isPosition(position)) return position;
    } catch {
      // refused below
    }
  }
  throw badRequest('invalid_cursor', 'cursor is not a cursor this list gave out (pass next_cursor as it came)', {
    field: 'cursor',
  });
}

/**
 * One page of a list: read is asked for limit + 1 rows after the cursor's position (null for the
 * first page), so an extra row tells that another page follows.
 */
export async function readPage<R, P extends Position>(
  keyset: Keyset<R, P>,
  query: PageQuery,
  read: (after: P | null, limit: number) => Promise<R[]>,
): Promise<{ rows: R[]; next_cursor: string | null }> {
  const after = query.cursor === undefined ? null : decodeCursor(keyset.list, query.cursor, keyset.isPosition);
  const rows = await read(after, query.limit + 1);
  const shown = rows.slice(0, query.limit);
  const last = shown.at(-1);
  const more = rows.length > query.limit && last !== undefined;
  return { rows: shown, next_cursor: more ? encodeCursor(keyset.list, keyset.positionOf(last)) : null };
}

/** Whether a position is an RFC 3339 time followed by the row's id (lists newest first). */
export function isTimePosition<Id extends string | number>(
  position: unknown[],
  isId: (id: unknown) => id is Id,
): position is [string, Id] {
  const [at, id, ...rest] = position;
  return rest.length === 0 && typeof at === 'string' && !Number.isNaN(new Date(at).getTime()) && isId(id);
}

/** A time window, since inclusive and until exclusive: an empty or inverted one is refused (400, field until). */
export function checkWindow(since: Date | undefined, until: Date | undefined): void {
  // The document's date-time admits a leap second (23:59:60), which no Date (nor PostgreSQL) holds.
  for (const [field, at] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (at !== undefined && Number.isNaN(at.getTime())) {
      throw badRequest('invalid_request', `${field} is not a time this service can compare (a leap second?)`, {
        field,
      });
    }
  }
  if (since !== undefined && until !== undefined && until <= since) {
    throw badRequest('invalid_request', 'until must be later than since', { field: 'until' });
  }
}
