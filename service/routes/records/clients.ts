// Clients of a practice account.
import type { FastifyInstance } from 'fastify';
import { clientRecords } from '../../domain/records/clients.ts';
import { route } from '../../http/route.ts';
import { memberHandlers } from './members.ts';

export default function clientRoutes(app: FastifyInstance): void {
  const onRequest = app.requireScope('admin');
  const clients = memberHandlers(clientRecords(app.recordStore), 'clientId');
  route(app, 'listClients', { onRequest, handler: clients.list });
  route(app, 'getClient', { onRequest, handler: clients.get });
  route(app, 'putClient', { onRequest, handler: clients.put });
  route(app, 'deleteClient', { onRequest, handler: clients.delete });
}
