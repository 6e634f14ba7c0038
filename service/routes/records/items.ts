// Items of an account: expense claims, receipts, invoices.
import type { FastifyInstance } from 'fastify';
import { memberRoutes } from './members.ts';
import type { Schemas } from './shared.ts';

export function itemRoutes(app: FastifyInstance): void {
  const items = app.recordService.items;
  memberRoutes<Schemas['Item'], Schemas['ItemPut'], Schemas['ItemList']>(app, 'items', 'itemId', items);
}
