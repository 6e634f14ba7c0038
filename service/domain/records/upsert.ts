// The upsert engine every record kind shares: create the records that do not exist, update those
// that differ, leave the rest (and their updated_at) alone, and audit each change; plus what a
// bulk sync counts and the refusals of a write.
import type { Kysely } from 'kysely';
import { findByIds, upsertByIds, type FieldsOf, type MemberRow, type MemberTable } from '../../data/records.ts';
import type { Database } from '../../data/schema.ts';
import { AppError, badRequest } from '../../errors.ts';
import type { AuditDraft } from '../audit.ts';

export type SyncMode = 'upsert' | 'replace';
export type Outcome = 'created' | 'updated' | 'unchanged';

export interface Written<T> {
  record: T;
  outcome: Outcome;
}

export interface SyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

/**
 * How the caller named what it sent, so a refusal names the failing field as the caller knows
 * it: a path parameter, a field of the body, or of the index-th record of a bulk sync.
 */
export interface Naming {
  /** The account the records go in. */
  account: string;
  field(index: number, field: string): string;
}

/** A record kind as the engine writes it: its table, its view and its audit entry. */
export interface RecordKind<T extends MemberTable, V> {
  name: 'user' | 'client' | 'item';
  table: T;
  view(row: MemberRow<T>): V;
  entry(before: V | null, after: V | null): AuditDraft;
}

export const invalidReference = (field: string, message: string) => badRequest('invalid_reference', message, { field });

const idConflict = (kind: string, id: string, field: string) => {
  const message = `${kind} id "${id}" is taken by another account (ids are global); nothing was written`;
  return new AppError(409, 'id_conflict', message, { details: { field } });
};

export function refuseDuplicates(ids: readonly string[], what: string, naming: Naming): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) {
      throw badRequest('duplicate_record', `${what} "${id}" is listed twice`, { field: naming.field(i, 'id') });
    }
    seen.add(id);
  });
}

/** A stored row already holds these values: writing them would change nothing. */
const holds = (row: object, fields: object): boolean =>
  Object.entries(fields).every(([key, value]) => (row as Record<string, unknown>)[key] === value);

/**
 * Creates the records that do not exist and updates the ones that differ; leaves the rest (and
 * their updated_at) alone and writes no audit entry for them. Results are in the order given.
 */
export async function upsertRecords<T extends MemberTable, V>(
  trx: Kysely<Database>,
  kind: RecordKind<T, V>,
  accountId: string,
  desired: ReadonlyArray<FieldsOf<T>>,
  naming: Naming,
  changes: AuditDraft[],
): Promise<Array<Written<V>>> {
  const existing = new Map(
    (
      await findByIds(
        trx,
        kind.table,
        desired.map((d) => d.id),
      )
    ).map((r) => [r.id, r]),
  );
  const toWrite: Array<FieldsOf<T>> = [];
  desired.forEach((fields, i) => {
    const current = existing.get(fields.id);
    if (current !== undefined && current.account_id !== accountId) {
      throw idConflict(kind.name, fields.id, naming.field(i, 'id'));
    }
    if (current === undefined || !holds(current, fields)) toWrite.push(fields);
  });
  const written = new Map((await upsertByIds(trx, kind.table, toWrite)).map((r) => [r.id, r]));
  if (written.size !== toWrite.length) {
    const message = `a concurrent change gave one of these ${kind.name} ids to another account; nothing was written`;
    throw new AppError(409, 'conflict', `${message}, retry the request`);
  }
  return desired.map((fields) => {
    const current = existing.get(fields.id);
    const row = written.get(fields.id);
    if (row === undefined) return { record: kind.view(current as MemberRow<T>), outcome: 'unchanged' };
    const before = current === undefined ? null : kind.view(current);
    const after = kind.view(row);
    changes.push(kind.entry(before, after));
    return { record: after, outcome: before === null ? 'created' : 'updated' };
  });
}

export function counted(results: ReadonlyArray<Written<unknown>>, deleted: number): SyncCounts {
  const counts: SyncCounts = { created: 0, updated: 0, unchanged: 0, deleted };
  for (const r of results) counts[r.outcome] += 1;
  return counts;
}

export const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];
