// Reads openapi/clearance.yaml once and hands its component schemas to Fastify, so the
// document, request validation and response serialization come from one source.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler';
import type { FastifyInstance, FastifySchema, FastifySchemaValidationError as ValidationError } from 'fastify';
import { parse } from 'yaml';

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi/clearance.yaml', import.meta.url));

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Json>; parameters?: Record<string, Json>; responses?: Record<string, Json> };
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
 * What a value failing one of the document's shared patterns must be, in words (a regular
 * expression tells a caller little), by the pattern as the document writes it.
 */
export function patternMeanings(): Record<string, string> {
  const pattern = (name: string) => String(openApiDocument().components.schemas[name]?.pattern);
  const id = '1 to 128 letters, digits, "_", ".", ":" or "-", and not "." or ".."';
  return {
    // Free text that is stored: PostgreSQL refuses U+0000 anywhere, and an unpaired surrogate in jsonb (the audit trail).
    [pattern('Name')]: 'must not contain NUL (U+0000) or an unpaired surrogate: they cannot be stored',
    [pattern('Id')]: `must be an id: ${id}`,
    [pattern('AuditRecordId')]: `must be an id, or two joined by "/" (<user_id>/<client_id>); an id is ${id}`,
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
  // Handlers see the document's defaults filled in (route.ts types them so), never re-apply them.
  const customOptions = { ...(options?.customOptions as object), useDefaults: true };
  const strict = build(externalSchemas, { ...options, mode: undefined, customOptions });
  const coercing = build(externalSchemas, {
    ...options,
    mode: undefined,
    customOptions: { ...customOptions, coerceTypes: 'array' },
  });
  // Fastify calls the compiler with its route definition, which the package's types do not say.
  const compile = (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : coercing)(route as never);
  return compile as unknown as ReturnType<BuildCompilerFromPool>;
};

/** Ajv's options for the app (Fastify's `ajv` option) and for schemaValidator. */
export const AJV_OPTIONS = { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } };

/**
 * A validator of a value against the document's schema `name`, as a request body is validated:
 * null when it holds, else Ajv's errors (http/errors.ts invalidRequest words them). For values
 * that arrive inside another (an OPA input in a query string, an item of an OPA batch).
 */
export function schemaValidator(app: FastifyInstance, name: string): (value: unknown) => ValidationError[] | null {
  const schemas = app.getSchemas() as Parameters<typeof validatorCompilers>[0];
  const compile = validatorCompilers(schemas, AJV_OPTIONS) as unknown as (route: object) => {
    (value: unknown): boolean;
    errors?: ValidationError[] | null;
  };
  const validate = compile({ schema: ref(name), method: 'POST', url: `/${name}`, httpPart: 'body' });
  return (value) => (validate(value) ? null : (validate.errors ?? []));
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
type Method = (typeof METHODS)[number];

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Json;
}

/** Follows a local `#/components/<section>/<name>` reference. */
function resolve<T>(value: unknown): T {
  const ref = (value as { $ref?: unknown }).$ref;
  if (typeof ref !== 'string') return value as T;
  const [, , section, name] = ref.split('/');
  const target = (openApiDocument().components as Record<string, Record<string, unknown> | undefined>)[section ?? '']?.[
    name ?? ''
  ];
  if (target === undefined) throw new Error(`openapi: unresolved reference ${ref}`);
  return target as T;
}

export interface SpecRoute {
  method: Uppercase<Method>;
  /** The Fastify URL (`/v1/accounts/:accountId`). */
  url: string;
  /** params, querystring, body and response schemas, as the document states them. */
  schema: FastifySchema;
}

/**
 * The route of one operation of the document: its method, URL and every schema Fastify validates
 * and serializes with, taken from the document, so the two cannot drift. Routes bind with route()
 * (route.ts), by operationId.
 */
function specRoute(method: Method, path: string): SpecRoute {
  const item = openApiDocument().paths[path];
  const operation = item?.[method] as Json | undefined;
  if (item === undefined || operation === undefined)
    throw new Error(`openapi: no operation ${method.toUpperCase()} ${path}`);
  const parameters = [...((item.parameters as unknown[]) ?? []), ...((operation.parameters as unknown[]) ?? [])].map(
    (p) => resolve<Parameter>(p),
  );
  const inPart = (part: Parameter['in']) => parameters.filter((p) => p.in === part);
  const objectOf = (list: Parameter[], closed: boolean) => ({
    type: 'object',
    ...(closed ? { additionalProperties: false } : {}),
    required: list.filter((p) => p.required === true).map((p) => p.name),
    properties: Object.fromEntries(list.map((p) => [p.name, rewriteRefs(p.schema)])),
  });

  const schema: Record<string, unknown> = {};
  if (inPart('path').length > 0) schema.params = objectOf(inPart('path'), false);
  const query = inPart('query');
  // Unknown query parameters are refused, so a misspelt filter is not silently ignored.
  if (query.length > 0) schema.querystring = objectOf(query, true);
  const content = (operation.requestBody as { content?: Record<string, { schema: Json }> } | undefined)?.content;
  // A JSON body is validated by its schema; another (a policy bundle) is the handler's to check.
  const body = content === undefined ? undefined : Object.entries(content).find(([type]) => type.endsWith('json'))?.[1];
  if (body !== undefined) schema.body = rewriteRefs(body.schema);
  const response: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries((operation.responses as Json | undefined) ?? {})) {
    const json = resolve<{ content?: Record<string, { schema: Json }> }>(answer).content?.['application/json'];
    if (json !== undefined) response[status] = rewriteRefs(json.schema);
  }
  schema.response = response;

  // Query values arrive as text; validatorCompilers reads them as the schema's type.
  const url = path.replace(/\{(\w+)\}/g, ':$1');
  return { method: method.toUpperCase() as Uppercase<Method>, url, schema: schema as FastifySchema };
}

let byOperationId: Map<string, { method: Method; path: string }> | undefined;

/** The route of the document's operation with this operationId (see specRoute). */
export function operationRoute(operationId: string): SpecRoute {
  if (byOperationId === undefined) {
    byOperationId = new Map();
    for (const [path, item] of Object.entries(openApiDocument().paths)) {
      for (const method of METHODS) {
        const id = (item[method] as { operationId?: unknown } | undefined)?.operationId;
        if (typeof id === 'string') byOperationId.set(id, { method, path });
      }
    }
  }
  const found = byOperationId.get(operationId);
  if (found === undefined) throw new Error(`openapi: no operation ${operationId}`);
  return specRoute(found.method, found.path);
}
