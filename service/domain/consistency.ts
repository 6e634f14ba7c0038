// Consistency tokens, as Zanzibar's zookies and OpenFGA's consistency preference: every write's
// answer names its transaction, and a decision that passes that token is answered from facts at
// least as new as the write, on whichever process it lands. A process answers it from its cache
// only once its change feed has delivered the transaction's commit notification (and so every
// change committed up to it); until then, from the database.
import { badRequest } from '../errors.ts';

/** What a request asks of the facts it is decided on. */
export type Consistency =
  /** The cache as it stands (the default): changes made elsewhere arrive within the feed's window. */
  | { kind: 'cached' }
  /** No cache at all for this request. */
  | { kind: 'fresh' }
  /** Facts that include this transaction and every one committed before it. */
  | { kind: 'at_least'; transaction: bigint };

export const CACHED: Consistency = { kind: 'cached' };
const FRESH: Consistency = { kind: 'fresh' };

// "ct1." and the transaction id (PostgreSQL's xid8, in decimal). Callers treat it as opaque; the
// version prefix leaves room to change what it holds.
const TOKEN = /^ct1\.(\d{1,20})$/;
const XID8_MAX = 2n ** 64n - 1n;

/** The token a write's answer carries for its transaction (xid8 as text). */
export const consistencyToken = (transaction: string): string => `ct1.${transaction}`;

/** The transaction a token names; a 400 naming `field` when it is not a token this service gave out. */
export function tokenTransaction(token: string, field: string): bigint {
  const match = TOKEN.exec(token);
  const transaction = match === null ? null : BigInt(match[1] as string);
  if (transaction === null || transaction > XID8_MAX) {
    throw badRequest('invalid_consistency_token', `${field} is not a consistency token this service gave out`, {
      field,
    });
  }
  return transaction;
}

/** A request's `consistency` as sent ("fresh" or {"at_least": token}); a bad token is a 400 naming `field`.at_least. */
export function requestedConsistency(value: 'fresh' | { at_least: string } | undefined, field: string): Consistency {
  if (value === undefined) return CACHED;
  if (value === 'fresh') return FRESH;
  return { kind: 'at_least', transaction: tokenTransaction(value.at_least, `${field}.at_least`) };
}

/** Transactions remembered one by one while the horizon cannot cover them (a long transaction elsewhere holds it back). */
const MAX_REMEMBERED = 100_000;

/**
 * Which transactions this process has applied every change of, from the commit notifications of
 * its change feed. Each carries its transaction id and the oldest transaction still running when
 * it committed (its snapshot's xmin): every older one had ended before it, so its notifications
 * came earlier on the same feed, and everything below the highest such xmin is applied. Newer
 * ones are remembered by id. Forgetting one is safe: such a token is answered from the database.
 */
export class AppliedTransactions {
  #horizon = 0n;
  readonly #remembered = new Set<bigint>();

  /** The commit notification of `transaction`, whose oldest concurrent transaction was `xmin`. */
  add(transaction: bigint, xmin: bigint): void {
    this.#remembered.add(transaction);
    if (xmin > this.#horizon) {
      this.#horizon = xmin;
      for (const old of this.#remembered) if (old < xmin) this.#remembered.delete(old);
    }
    // Oldest first (a Set keeps insertion order).
    for (const old of this.#remembered) {
      if (this.#remembered.size <= MAX_REMEMBERED) break;
      this.#remembered.delete(old);
    }
  }

  /** Whether every change of the transaction, and of every one committed before it, has been applied here. */
  covers(transaction: bigint): boolean {
    return transaction < this.#horizon || this.#remembered.has(transaction);
  }
}
