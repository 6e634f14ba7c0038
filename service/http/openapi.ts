// Reads openapi/clearance.yaml once and hands its component schemas to Fastify, so the
// document, request validation and response serialization come from one source.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi/clearance.yaml', import.meta.url));

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema: Record<string, unknown>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Parameter[] } | undefined>>;
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

/**
 * The JSON schema Fastify validates an operation's query string or path parameters with, made from
 * the operation's parameters in the document. Unknown query parameters are refused: a mistyped
 * filter must not quietly widen a search.
 */
export function parametersSchema(path: string, method: string, location: 'query' | 'path'): Record<string, unknown> {
  const operation = openApiDocument().paths[path]?.[method];
  if (operation === undefined) throw new Error(`openapi/clearance.yaml has no operation ${method.toUpperCase()} ${path}`);
  const parameters = (operation.parameters ?? []).filter((p) => p.in === location);
  return {
    type: 'object',
    additionalProperties: false,
    required: parameters.filter((p) => p.required === true).map((p) => p.name),
    properties: Object.fromEntries(parameters.map((p) => [p.name, rewriteRefs(p.schema)])),
  };
}

/** A reference to a component schema, for route schemas. */
export const ref = (name: string) => ({ $ref: `${name}#` });

/**
 * Fastify's validator factory with two Ajv setups: bodies as configured (no coercion), and query
 * strings, path parameters and headers coerced to their schema's type ("10" → 10, "true" → true).
 */
export const validatorCompilers: BuildCompilerFromPool = (externalSchemas, options) => {
  const build = AjvCompiler();
  const strict = build(externalSchemas, options);
  const coercing = build(externalSchemas, { ...options, mode: undefined, customOptions: { ...(options?.customOptions as object), coerceTypes: 'array' } });
  // Fastify calls the compiler with its route definition, which the package's types do not say.
  const compile = (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : coercing)(route as never);
  return compile as unknown as ReturnType<BuildCompilerFromPool>;
};
