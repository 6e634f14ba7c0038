// Serves the OpenAPI document the routes validate against.
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../http/openapi.ts';

export default async function openApiRoutes(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', async () => openApiDocument());
}
