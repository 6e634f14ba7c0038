// What the routes of the records API share: their spec and scope, paging, the answer of a PUT,
// and the names of the path parameters a refusal is reported under.
import type { FastifyInstance, FastifyReply, HTTPMethods } from 'fastify';
import { DEFAULT_PAGE_LIMIT, type PageQuery } from '../../domain/paging.ts';
import type { Naming, Written } from '../../domain/records/upsert.ts';
import { specRoute } from '../../http/openapi.ts';
import type { components, operations } from '../../http/openapi-types.ts';

export type Schemas = components['schemas'];
export type PathOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['path']>;
export type QueryOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

/** The route's method, path and schemas from the OpenAPI document; scope admin. */
export function adminRoute(app: FastifyInstance, method: 'get' | 'put' | 'post' | 'patch' | 'delete', path: string) {
  const { url, schema } = specRoute(method, path);
  return { method: method.toUpperCase() as HTTPMethods, url, schema, onRequest: app.requireScope('admin') };
}

export const pageOf = (query: { limit?: number; cursor?: string }): PageQuery => ({
  limit: query.limit ?? DEFAULT_PAGE_LIMIT,
  ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
});

/** 201 when the PUT created the record, 200 when it updated it or found it as sent. */
export const sendWritten = <T>(reply: FastifyReply, result: Written<T>) =>
  reply.code(result.outcome === 'created' ? 201 : 200).send(result.record);

const ACCOUNT_PARAMETER = 'accountId';

/** One record, its id a path parameter: a refusal of the id names the parameter. */
export const inPath = (idParameter: string): Naming => ({
  account: ACCOUNT_PARAMETER,
  field: (_index, field) => (field === 'id' ? idParameter : field),
});

/** The records of a bulk sync: records[i].field. */
export const inRecords: Naming = { account: ACCOUNT_PARAMETER, field: (index, field) => `records[${index}].${field}` };
