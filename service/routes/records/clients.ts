// Clients of a practice account.
import type { FastifyInstance } from 'fastify';
import { route } from '../../http/route.ts';
import { memberHandlers } from './members.ts';

export function clientRoutes(app: FastifyInstance): void {
  const onRequest = app.requireScope('admin');
  const clients = memberHandlers(app.recordService.clients, 'clientId');
  route(app, 'listClients', { onRequest, handler: clients.list });
  route(app, 'getClient', { onRequest, handler: clients.get });
  route(app, 'putClient', { onRequest, handler: clients.put });
  route(app, 'deleteClient', { onRequest, handler: clients.delete });
}
