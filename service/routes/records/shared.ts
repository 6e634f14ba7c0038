// What the routes of the records API share: the request a handler made for several operations
// sees, the answers of a PUT and a DELETE, and the names of the path parameters a refusal is
// reported under.
import type { FastifyRequest } from 'fastify';
import type { Naming, Written } from '../../domain/records/upsert.ts';

/** A request as a handler shared by several kinds of record sees it; route() checks it against each operation. */
export type RecordRequest<Params, Body = unknown, Query = unknown> = FastifyRequest & {
  params: Params;
  body: Body;
  query: Query;
};

// Function properties, not methods: TypeScript then checks a record sent against the body the
// operation answers with, instead of accepting either direction.
/** A reply that answers a PUT with the record, 200 or 201. */
export interface WriteReply<V> {
  code: (status: 200 | 201) => { send: (record: V) => unknown };
}

/** A reply that answers with no content. */
export interface EmptyReply {
  code: (status: 204) => { send: () => unknown };
}

/** 201 when the PUT created the record, 200 when it updated it or found it as sent. */
export function sendWritten<R extends WriteReply<V>, V>(reply: R, written: Written<V>): R {
  reply.code(written.outcome === 'created' ? 201 : 200).send(written.record);
  return reply;
}

export function sendEmpty<R extends EmptyReply>(reply: R): R {
  reply.code(204).send();
  return reply;
}

const ACCOUNT_PARAMETER = 'accountId';

/** One record, its id a path parameter: a refusal of the id names the parameter. */
export const inPath = (idParameter: string): Naming => ({
  account: ACCOUNT_PARAMETER,
  field: (_index, field) => (field === 'id' ? idParameter : field),
});

/** The records of a bulk sync: records[i].field. */
export const inRecords: Naming = { account: ACCOUNT_PARAMETER, field: (index, field) => `records[${index}].${field}` };
