// What every record of an account has (users, clients, items): a kind that says how it is viewed,
// written and deleted, and from it the reads and single-record writes of the API.
import type { Kysely } from 'kysely';
import type { RowOf } from '../../data/facts.ts';
import { deleteByIds, type MemberRow, type MemberTable } from '../../data/records.ts';
import type { Account, Database } from '../../data/schema.ts';
import type { Actor, AuditDraft } from '../audit.ts';
import type { PageQuery } from '../paging.ts';
import { listRecords } from './pages.ts';
import { accountOf, memberOf, type RecordStore } from './parents.ts';
import type { Naming, RecordKind, Written } from './upsert.ts';

/** Writes records sent as I (validated by the kind's rules) in the account; the results in the order sent. */
export type Upsert<I, V> = (
  trx: Kysely<Database>,
  account: Account,
  records: ReadonlyArray<I & { id: string }>,
  naming: Naming,
  changes: AuditDraft[],
) => Promise<Array<Written<V>>>;

/** A kind of record of an account: V as shown, I as sent, L the name of its list in a page. */
export interface MemberKind<T extends MemberTable, V, I, L extends string> extends RecordKind<T, V> {
  list: L;
  /** The account records are written in, locked; a kind may refuse some accounts. */
  account(trx: Kysely<Database>, accountId: string, naming: Naming): Promise<Account>;
  upsert: Upsert<I, V>;
  /** The audit entries of what else goes or changes when these records go (the database cascades it). */
  cascade(trx: Kysely<Database>, account: Account, ids: readonly string[]): Promise<AuditDraft[]>;
  /** Whether a replace sync deletes after the upsert (its audit entries last) rather than before. */
  deletesLast: boolean;
}

export type Page<L extends string, V> = { [K in L]: V[] } & { next_cursor: string | null };

/** Deletes the rows; the audit trail gets them and what goes or changes with them. */
export async function deleteMembers<T extends MemberTable, V, I, L extends string>(
  trx: Kysely<Database>,
  kind: MemberKind<T, V, I, L>,
  account: Account,
  rows: ReadonlyArray<MemberRow<T>>,
  changes: AuditDraft[],
): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((row) => row.id);
  changes.push(...rows.map((row) => kind.entry(kind.view(row), null)), ...(await kind.cascade(trx, account, ids)));
  await deleteByIds(trx, kind.table, ids);
}

export const lockedAccount = (trx: Kysely<Database>, accountId: string): Promise<Account> =>
  accountOf(trx, accountId, true);

export function memberRecords<T extends MemberTable, V, I, L extends string>(
  { db, writer }: RecordStore,
  kind: MemberKind<T, V, I, L>,
) {
  const view = (row: RowOf<T>) => kind.view(row as MemberRow<T>);
  return {
    async get(accountId: string, id: string): Promise<V> {
      return kind.view(await memberOf(db, kind.table, await accountOf(db, accountId, false), id));
    },

    async list(accountId: string, query: PageQuery): Promise<Page<L, V>> {
      await accountOf(db, accountId, false);
      const { records, next_cursor } = await listRecords(db, kind.table, accountId, query, view);
      return { [kind.list]: records, next_cursor } as Page<L, V>;
    },

    put(actor: Actor, accountId: string, id: string, input: I, naming: Naming): Promise<Written<V>> {
      return writer.write(actor, async (trx, changes) => {
        const account = await kind.account(trx, accountId, naming);
        const [written] = await kind.upsert(trx, account, [{ ...input, id }], naming, changes);
        return written as Written<V>;
      });
    },

    delete(actor: Actor, accountId: string, id: string): Promise<void> {
      return writer.write(actor, async (trx, changes) => {
        const account = await accountOf(trx, accountId, true);
        await deleteMembers(trx, kind, account, [await memberOf(trx, kind.table, account, id)], changes);
      });
    },
  };
}
