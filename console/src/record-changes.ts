// A record before and after a change, as rows of fields: nested objects flattened to dotted paths
// (permissions.publishing), each row saying whether the field was added, removed, changed or kept.
// Plain data, no DOM, so that it is unit-tested on its own (test/engine-free/record-diff.test.ts).

export type FieldChange = 'added' | 'removed' | 'changed' | 'unchanged';

export interface FieldRow {
  /** The field's path: a.b for nested objects, a[0].b in arrays of objects, a["x.y"] for an odd key. */
  path: string;
  /** The value at the path; undefined when the field is absent on that side. */
  before: unknown;
  after: unknown;
  change: FieldChange;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

function join(prefix: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${prefix}[${JSON.stringify(key)}]`;
  return prefix === '' ? key : `${prefix}.${key}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** An array of objects is walked by index; any other array (ids, scopes) is one value, read as a whole. */
const walkable = (value: unknown): value is Record<string, unknown> | unknown[] =>
  (isObject(value) && Object.keys(value).length > 0) ||
  (Array.isArray(value) && value.length > 0 && value.some((item) => isObject(item) || Array.isArray(item)));

/**
 * The record's leaves by path, in the record's own order. An empty object or array is a leaf
 * ({} or []), so that "became empty" shows as a change rather than as a field that vanished.
 */
export function flatten(record: unknown, prefix = ''): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  const walk = (value: unknown, at: string) => {
    if (!walkable(value)) {
      fields.set(at, value);
      return;
    }
    if (Array.isArray(value)) for (const [index, item] of value.entries()) walk(item, `${at}[${index}]`);
    else for (const [key, child] of Object.entries(value)) walk(child, join(at, key));
  };
  if (record === null || record === undefined) return fields;
  if (!walkable(record)) {
    fields.set(prefix === '' ? '(value)' : prefix, record);
    return fields;
  }
  walk(record, prefix);
  return fields;
}

/** Two leaves are the same when they serialise alike (leaves are scalars or arrays of scalars). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Every field of either side, the before record's order first and fields only after appended in
 * theirs. A null side (a create has no before, a delete no after) makes every field added or removed.
 */
export function diffRecords(before: unknown, after: unknown): FieldRow[] {
  const old = flatten(before);
  const now = flatten(after);
  const rows: FieldRow[] = [];
  for (const [path, value] of old) {
    if (!now.has(path)) rows.push({ path, before: value, after: undefined, change: 'removed' });
    else {
      const next = now.get(path);
      rows.push({ path, before: value, after: next, change: sameValue(value, next) ? 'unchanged' : 'changed' });
    }
  }
  for (const [path, value] of now) {
    if (!old.has(path)) rows.push({ path, before: undefined, after: value, change: 'added' });
  }
  return rows;
}

/** How many fields of each kind of change: for a one-line summary. */
export function countChanges(rows: readonly FieldRow[]): Record<FieldChange, number> {
  const counts: Record<FieldChange, number> = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  for (const row of rows) counts[row.change] += 1;
  return counts;
}

/** A leaf as text: strings as they are (the empty one as ""), anything else as JSON (null, true, ["a"], {}). */
export function fieldText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string' && value !== '') return value;
  return JSON.stringify(value) ?? String(value);
}
