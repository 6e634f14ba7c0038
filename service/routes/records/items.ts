// Items of an account: expense claims, receipts, invoices.
import type { FastifyInstance } from 'fastify';
import { itemRecords } from '../../domain/records/items.ts';
import { route } from '../../http/route.ts';
import { memberHandlers } from './members.ts';

export default function itemRoutes(app: FastifyInstance): void {
  const onRequest = app.requireScope('admin');
  const items = memberHandlers(itemRecords(app.recordStore), 'itemId');
  route(app, 'listItems', { onRequest, handler: items.list });
  route(app, 'getItem', { onRequest, handler: items.get });
  route(app, 'putItem', { onRequest, handler: items.put });
  route(app, 'deleteItem', { onRequest, handler: items.delete });
}
