// The records API, published as the context API of SPEC §3 (scope admin): accounts, users,
// clients, allocations, ledger access and items, one record at a time or in bulk. Schemas come
// from the OpenAPI document. Every write answers with its consistency token.
import type { FastifyInstance } from 'fastify';
import { answerWithConsistencyToken } from '../../http/write-answers.ts';
import { accountRoutes } from './accounts.ts';
import { clientRoutes } from './clients.ts';
import { itemRoutes } from './items.ts';
import { linkRoutes } from './links.ts';
import { syncRoutes } from './sync.ts';
import { userRoutes } from './users.ts';

export default async function recordRoutes(app: FastifyInstance): Promise<void> {
  answerWithConsistencyToken(app);
  accountRoutes(app);
  userRoutes(app);
  linkRoutes(app);
  clientRoutes(app);
  itemRoutes(app);
  syncRoutes(app);
}
