// Page cursors: opaque to callers, but checked. A cursor names the list it belongs to and its
// position there, behind a short checksum of both, so a made-up, mistyped or truncated cursor, or
// one of another list, is refused (400 invalid_cursor) instead of being read as some position and
// answered with a wrong or empty page. The checksum is not a secret: a cursor someone computes
// by hand is only a position, which the list's own filters could reach as well.
import { createHash } from 'node:crypto';
import { badRequest } from '../errors.ts';

const CHECK_BYTES = 6;

type Position = Array<string | number>;

const checksum = (body: string) => createHash('sha256').update(body).digest().subarray(0, CHECK_BYTES);

export function encodeCursor(list: string, position: Position): string {
  const body = JSON.stringify([list, ...position]);
  return Buffer.concat([checksum(body), Buffer.from(body, 'utf8')]).toString('base64url');
}

/**
 * The position a cursor of this list holds, checked by isPosition (the shapes encodeCursor was
 * given); throws 400 invalid_cursor for anything else.
 */
export function decodeCursor<P extends Position>(list: string, cursor: string, isPosition: (position: unknown[]) => position is P): P {
  const bytes = Buffer.from(cursor, 'base64url');
  const body = bytes.subarray(CHECK_BYTES).toString('utf8');
  // The same bytes have one base64url spelling: a cursor with characters dropped or added is not the one given out.
  if (bytes.length > CHECK_BYTES && bytes.toString('base64url') === cursor && checksum(body).equals(bytes.subarray(0, CHECK_BYTES))) {
    try {
      const [owner, ...position] = JSON.parse(body) as unknown[];
      if (owner === list && isPosition(position)) return position;
    } catch {
      // refused below
    }
  }
  throw badRequest('invalid_cursor', 'cursor is not a cursor this list gave out (pass next_cursor as it came)', { field: 'cursor' });
}
