// What each change of a record leaves in the audit trail: the record before and after, and the
// user and client it concerns (so "who gave U access to C" is one filtered query).
import type { Pair } from '../../data/records.ts';
import type { AuditChange, FactRecordType, LinkTable } from '../../data/schema.ts';
import type { AuditDraft } from '../audit.ts';
import type { AccountView, ClientView, ItemView, UserView } from './views.ts';

type Concerns = { user_id: string | null; client_id: string | null };

const changeOf = (before: object | null, after: object | null): AuditChange =>
  before === null ? 'create' : after === null ? 'delete' : 'update';

function recordEntry<V extends { id: string }>(
  recordType: FactRecordType,
  accountOf: (v: V) => string,
  concerns: (v: V) => Concerns,
): (before: V | null, after: V | null) => AuditDraft {
  return (before, after) => {
    const record = (after ?? before) as V;
    return {
      account_id: accountOf(record),
      record_type: recordType,
      record_id: record.id,
      ...concerns(record),
      change: changeOf(before, after),
      before,
      after,
    };
  };
}

export const accountEntry = recordEntry<AccountView>(
  'account',
  (a) => a.id,
  () => ({ user_id: null, client_id: null }),
);
export const userEntry = recordEntry<UserView>(
  'user',
  (u) => u.account_id,
  (u) => ({ user_id: u.id, client_id: null }),
);
export const clientEntry = recordEntry<ClientView>(
  'client',
  (c) => c.account_id,
  (c) => ({ user_id: null, client_id: c.id }),
);

/** An item concerns its owner (the one before, when it has none now) and its client. */
export const itemEntry = (before: ItemView | null, after: ItemView | null): AuditDraft =>
  recordEntry<ItemView>(
    'item',
    (i) => i.account_id,
    (i) => ({ user_id: i.owner_user_id ?? before?.owner_user_id ?? null, client_id: i.client_id }),
  )(before, after);

export const pairEntry = (table: LinkTable, accountId: string, change: 'create' | 'delete', pair: Pair): AuditDraft => {
  const value = { user_id: pair.user_id, client_id: pair.client_id };
  return {
    account_id: accountId,
    record_type: table === 'allocations' ? 'allocation' : 'ledger_access',
    record_id: `${pair.user_id}/${pair.client_id}`,
    user_id: pair.user_id,
    client_id: pair.client_id,
    change,
    before: change === 'delete' ? value : null,
    after: change === 'create' ? value : null,
  };
};
