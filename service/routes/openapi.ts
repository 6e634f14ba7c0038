// Serves the OpenAPI document the routes validate against.
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../http/openapi.ts';

export default async function openApiRoutes(app: FastifyInstance): Promise<void> {
  // Not bound with route(): the document describes its own answer as {type: object}, by which
  // the response serializer would drop every field; it is sent as it is.
  app.get('/openapi.json', async () => openApiDocument());
}
