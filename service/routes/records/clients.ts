// Clients of a practice account.
import type { FastifyInstance } from 'fastify';
import { memberRoutes } from './members.ts';
import type { Schemas } from './shared.ts';

export function clientRoutes(app: FastifyInstance): void {
  const clients = app.recordService.clients;
  memberRoutes<Schemas['Client'], Schemas['ClientPut'], Schemas['ClientList']>(app, 'clients', 'clientId', clients);
}
