// Bounds on the free-form part of a decision request, resource.attributes: the policy walks it,
// and a structure deep enough overflows the stack on the way, as text that is not Unicode fails
// its JSON reader (policy faults, for what are bad requests). Checked before anything is decided,
// so a bad input is refused as one.
import { badRequest, type AppError } from '../errors.ts';

/** Levels of objects and arrays, the attributes object itself being the first. */
export const ATTRIBUTES_MAX_DEPTH = 32;
/** Bytes of the attributes as JSON (UTF-8). */
export const ATTRIBUTES_MAX_BYTES = 64 * 1024;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What is wrong inside value at this level (the attributes object being level 1), or null. An
 * unpaired surrogate is not Unicode text: the policy's JSON reader refuses it (a fault, were it let through).
 */
function problemIn(value: unknown, level: number): string | null {
  if (typeof value === 'string')
    return LONE_SURROGATE.test(value) ? 'holds an unpaired UTF-16 surrogate (not Unicode text)' : null;
  if (typeof value !== 'object' || value === null) return null;
  if (level > ATTRIBUTES_MAX_DEPTH) return `is nested deeper than ${ATTRIBUTES_MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const inner of value) {
      const problem = problemIn(inner, level + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    const problem = problemIn(key, level) ?? problemIn(inner, level + 1);
    if (problem !== null) return problem;
  }
  return null;
}

/** What is wrong with the attributes ("is nested …"), or null when they are within bounds. */
export function attributesProblem(attributes: unknown): string | null {
  if (attributes === undefined) return null;
  const problem = problemIn(attributes, 1);
  if (problem !== null) return problem;
  const bytes = Buffer.byteLength(JSON.stringify(attributes));
  if (bytes > ATTRIBUTES_MAX_BYTES) return `is ${bytes} bytes as JSON, over the ${ATTRIBUTES_MAX_BYTES} allowed`;
  return null;
}

/** The refusal (400 invalid_request naming field) of attributes out of bounds, or null. */
export function attributesRefusal(attributes: unknown, field: string): AppError | null {
  const problem = attributesProblem(attributes);
  return problem === null ? null : badRequest('invalid_request', `${field} ${problem}`, { field });
}
