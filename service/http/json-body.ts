// Reads JSON request bodies. JSON.parse alone accepts what this API must refuse: a key given twice
// in one object (it keeps the last, so a caller and a reviewer may read different bodies), keys
// that could alter prototypes once the body is merged into other objects, and nesting far deeper
// than any body here needs (it parses 2 million levels, for seconds, and later recursion overflows
// the stack). One pass over the text finds those, naming where; the nesting bound is checked
// before JSON.parse runs, so a deep body costs a scan that stops at the bound.
import { badRequest, type AppError } from '../errors.ts';

/**
 * Levels of objects and arrays a body may nest (the body itself is level 1). The deepest body the
 * API defines is a batch item's resource.attributes (level 5) holding its own 32 levels: beyond
 * that bound (see request-bounds.ts) an item is refused alone, beyond this one the whole body.
 */
export const MAX_BODY_DEPTH = 64;

interface Frame {
  object: boolean;
  /** The keys of an object seen so far (made on its second key). */
  keys: Set<string> | null;
  /** The current key of an object, the current index of an array. */
  at: string | number;
  /** In an object, whether the next string is a key. */
  expectKey: boolean;
}

/** Where the scan is, as the validation errors name fields: records[3].role. */
function fieldOf(frames: Frame[]): string {
  let field = '';
  for (const { at } of frames) field += typeof at === 'number' ? `[${at}]` : field === '' ? at : `.${at}`;
  return field || 'body';
}

/** The index just past the string that starts at start (a quote), or -1 when it never ends. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j === -1) return -1;
    let k = j - 1;
    while (text.charCodeAt(k) === 0x5c) k -= 1;
    // An even number of backslashes before the quote: it ends the string.
    if ((j - 1 - k) % 2 === 0) return j + 1;
    j += 1;
  }
}

/**
 * The first thing in the text that the API refuses, or null. Tolerates text that is not JSON at
 * all (JSON.parse says what is wrong with it). Depth problems are found as soon as they occur.
 */
export function scanJson(text: string): AppError | null {
  const frames: Frame[] = [];
  let found: AppError | null = null;
  const n = text.length;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end === -1) return found;
      const frame = frames[frames.length - 1];
      if (found === null && frame !== undefined && frame.object && frame.expectKey) {
        const raw = text.slice(i + 1, end - 1);
        let key = raw;
        if (raw.includes('\\')) {
          try {
            key = JSON.parse(text.slice(i, end)) as string;
          } catch {
            return found;
          }
        }
        const inConstructor = frames.length > 1 && (frames[frames.length - 2] as Frame).at === 'constructor';
        const previous = frame.at;
        frame.at = key;
        if (key === '__proto__' || (key === 'prototype' && inConstructor)) {
          const field = fieldOf(frames);
          const what = key === '__proto__' ? 'a "__proto__" key is' : 'a "prototype" key inside "constructor" is';
          found = badRequest('forbidden_key', `${field}: ${what} refused (it could alter object prototypes)`, {
            field,
          });
        } else if (frame.keys !== null) {
          if (frame.keys.has(key)) found = duplicate(frames, key);
          else frame.keys.add(key);
        } else if (typeof previous === 'string') {
          // The second key: only now is a set worth making.
          if (previous === key) found = duplicate(frames, key);
          else frame.keys = new Set([previous, key]);
        }
        frame.expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (frames.length === MAX_BODY_DEPTH) {
        const field = fieldOf(frames);
        return badRequest('invalid_request', `${field} nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels`, {
          field,
        });
      }
      frames.push(
        c === 0x7b
          ? { object: true, keys: null, at: -1, expectKey: true }
          : { object: false, keys: null, at: 0, expectKey: false },
      );
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
    } else if (c === 0x2c) {
      const frame = frames[frames.length - 1];
      if (frame !== undefined) {
        if (frame.object) frame.expectKey = true;
        else frame.at = (frame.at as number) + 1;
      }
    }
    i += 1;
  }
  return found;
}

function duplicate(frames: Frame[], key: string): AppError {
  const field = fieldOf(frames);
  return badRequest('duplicate_key', `${field}: the key "${key}" appears more than once in the same object`, { field });
}

/** The body's value; throws a 400 AppError naming what is refused and where. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '')
    throw badRequest('invalid_json', 'the body is empty, but Content-Type says JSON', { field: 'body' });
  const problem = scanJson(text);
  // Too deep: refused before parsing (JSON.parse would take its time over it).
  if (problem !== null && problem.code === 'invalid_request') throw problem;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest('invalid_json', `the body is not valid JSON: ${(error as Error).message}`, { field: 'body' });
  }
  if (problem !== null) throw problem;
  return value;
}
