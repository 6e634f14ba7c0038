// Where the records API's writes and reads start: the store they go through, and the account (or
// user) a record belongs to, which must exist — and be this account's — before anything happens.
import type { Kysely } from 'kysely';
import { findById } from '../../data/facts.ts';
import { findByIds, lockAccount, type MemberRow, type MemberTable } from '../../data/records.ts';
import type { Account, Database } from '../../data/schema.ts';
import { badRequest, notFound } from '../../errors.ts';
import type { AuditedWriter } from '../audit.ts';
import type { Naming } from './upsert.ts';

/** Reads go to db; every write is one transaction of the writer, audited. */
export interface RecordStore {
  db: Kysely<Database>;
  writer: AuditedWriter;
}

/** The account; locked (writers queue per account) when the caller will write in it. */
export async function accountOf(db: Kysely<Database>, id: string, lock: boolean): Promise<Account> {
  const account = lock ? await lockAccount(db, id) : await findById(db, 'accounts', id);
  if (account === undefined) throw notFound('account_not_found', `account "${id}" does not exist`);
  return account;
}

const KIND_OF = { users: 'user', clients: 'client', items: 'item' } as const;

/** A user, client or item of the account; one of another account is as unknown here as one that does not exist. */
export async function memberOf<T extends MemberTable>(
  db: Kysely<Database>,
  table: T,
  account: Account,
  id: string,
): Promise<MemberRow<T>> {
  const [row] = await findByIds(db, table, [id]);
  if (row === undefined || row.account_id !== account.id) {
    const kind = KIND_OF[table];
    throw notFound(`${kind}_not_found`, `${kind} "${id}" does not exist in account "${account.id}"`);
  }
  return row;
}

/** The account, locked, which must be a practice: only practice accounts have clients. */
export async function practiceOf(trx: Kysely<Database>, accountId: string, naming: Naming): Promise<Account> {
  const account = await accountOf(trx, accountId, true);
  if (account.kind !== 'practice') {
    const message = `account "${accountId}" is a ${account.kind} account; only practice accounts have clients`;
    throw badRequest('invalid_account_kind', message, { field: naming.account });
  }
  return account;
}
