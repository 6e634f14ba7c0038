// The records API, published as the context API of SPEC §3 (scope admin): accounts, users,
// clients, allocations, ledger access and items, one record at a time or in bulk. Schemas come
// from the OpenAPI document. Every write answers with its consistency token.
//
// Every module of this folder whose default export is a function registers the routes of one
// kind of record (as @fastify/autoload would): a new kind is a new file here, with nothing to
// list. The other modules (members.ts, shared.ts) are the handlers they share.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { answerWithConsistencyToken } from '../../http/write-answers.ts';

type KindRoutes = (app: FastifyInstance) => void;

/** The route registrations of the folder's modules, in file name order. */
async function kindRoutes(): Promise<KindRoutes[]> {
  const files = readdirSync(import.meta.dirname)
    .filter((name) => name.endsWith('.ts') && name !== 'index.ts')
    .sort();
  const modules = await Promise.all(
    files.map(
      async (name) => (await import(pathToFileURL(join(import.meta.dirname, name)).href)) as { default?: unknown },
    ),
  );
  return modules.flatMap((module) => (typeof module.default === 'function' ? [module.default as KindRoutes] : []));
}

export default async function recordRoutes(app: FastifyInstance): Promise<void> {
  answerWithConsistencyToken(app);
  for (const register of await kindRoutes()) register(app);
}
