// The handlers every record of an account has (users, clients, items): list, get, PUT, DELETE.
// Each kind registers them under its own operations, so route() checks them against each one.
import type { Actor } from '../../domain/audit.ts';
import type { PageQuery } from '../../domain/paging.ts';
import type { Naming, Written } from '../../domain/records/upsert.ts';
import { actorOf } from '../../http/write-answers.ts';
import { inPath, sendEmpty, sendWritten, type EmptyReply, type RecordRequest, type WriteReply } from './shared.ts';

/** A kind's records as the routes use them: V read, I written, L a page. */
export interface MemberRecords<V, I, L> {
  list(accountId: string, query: PageQuery): Promise<L>;
  get(accountId: string, id: string): Promise<V>;
  put(actor: Actor, accountId: string, id: string, input: I, naming: Naming): Promise<Written<V>>;
  delete(actor: Actor, accountId: string, id: string): Promise<void>;
}

/** The handlers of a kind whose records are named by the path parameter idParameter. */
export function memberHandlers<K extends string, V, I, L>(records: MemberRecords<V, I, L>, idParameter: K) {
  type Params = { accountId: string } & { [P in K]: string };
  const idsOf = (params: Params) => [params.accountId, params[idParameter]] as const;
  const naming = inPath(idParameter);
  return {
    list: async (request: RecordRequest<{ accountId: string }, unknown, PageQuery>): Promise<L> =>
      records.list(request.params.accountId, request.query),
    get: async (request: RecordRequest<Params>): Promise<V> => records.get(...idsOf(request.params)),
    put: async <R extends WriteReply<V>>(request: RecordRequest<Params, I>, reply: R): Promise<R> =>
      sendWritten(reply, await records.put(actorOf(request), ...idsOf(request.params), request.body, naming)),
    delete: async <R extends EmptyReply>(request: RecordRequest<Params>, reply: R): Promise<R> => {
      await records.delete(actorOf(request), ...idsOf(request.params));
      return sendEmpty(reply);
    },
  };
}
