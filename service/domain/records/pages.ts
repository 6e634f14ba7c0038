// Pages of the accounts, and of one account's users, clients or items: keyset on id, the cursor
// holding the last id shown, for this list only.
import type { Kysely } from 'kysely';
import type { RecordTable, RowOf } from '../../data/facts.ts';
import { pageRecords } from '../../data/records.ts';
import type { Database } from '../../data/schema.ts';
import { readPage, type PageQuery } from '../paging.ts';

const isIdPosition = (position: unknown[]): position is [string] =>
  position.length === 1 && typeof position[0] === 'string';

export async function listRecords<T extends RecordTable, V>(
  db: Kysely<Database>,
  table: T,
  accountId: string | null,
  query: PageQuery,
  view: (row: RowOf<T>) => V,
): Promise<{ records: V[]; next_cursor: string | null }> {
  const keyset = {
    list: accountId === null ? table : `${table}/${accountId}`,
    positionOf: (row: RowOf<T>): [string] => [row.id],
    isPosition: isIdPosition,
  };
  const { rows, next_cursor } = await readPage(keyset, query, (after, limit) =>
    pageRecords(db, table, accountId, { limit, after: after?.[0] ?? null }),
  );
  return { records: rows.map(view), next_cursor };
}
