// Reads openapi/clearance.yaml once and hands its component schemas to Fastify, so the
// document, request validation and response serialization come from one source.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi/clearance.yaml', import.meta.url));

export interface OpenApiDocument {
  components: { schemas: Record<string, Record<string, unknown>> };
  [key: string]: unknown;
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  cached ??= parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument;
  return cached;
}

/** `#/components/schemas/X` (the document's refs) becomes `X#` (Fastify's shared schema ids). */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/components/schemas/')
        ? `${inner.slice('#/components/schemas/'.length)}#`
        : rewriteRefs(inner);
  }
  return out;
}

export function registerSchemas(app: FastifyInstance): void {
  for (const [name, schema] of Object.entries(openApiDocument().components.schemas)) {
    app.addSchema({ $id: name, ...(rewriteRefs(schema) as object) });
  }
}

/** A reference to a component schema, for route schemas. */
export const ref = (name: string) => ({ $ref: `${name}#` });
