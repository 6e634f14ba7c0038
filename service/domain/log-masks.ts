// Applies the log policy's masks to a decision log entry. Copy-on-write along each masked path:
// the objects the decision was made with are never changed, and unmasked parts are shared.
import type { MaskApplied } from '../data/schema.ts';
import type { LogMask } from '../policy/answers.ts';

export interface LoggedParts {
  input: unknown;
  result: unknown;
}

type Container = Record<string, unknown> | unknown[];

const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null;

/** RFC 6901: "/a~1b/c~0d" → ["a/b", "c~d"]. */
export function parsePointer(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function has(container: Container, key: string): boolean {
  if (Array.isArray(container)) return /^(0|[1-9]\d*)$/.test(key) && Number(key) < container.length;
  return Object.hasOwn(container, key);
}

/** The value with the mask applied below it, or undefined when the path leads nowhere. */
function applyAt(value: unknown, segments: string[], mask: LogMask): unknown {
  const [key, ...rest] = segments;
  if (key === undefined || !isContainer(value)) return undefined;
  const exists = has(value, key);
  if (rest.length > 0) {
    if (!exists) return undefined;
    const inner = applyAt((value as Record<string, unknown>)[key], rest, mask);
    if (inner === undefined) return undefined;
    const copy: Container = Array.isArray(value) ? [...value] : { ...value };
    (copy as Record<string, unknown>)[key] = inner;
    return copy;
  }
  if (mask.op === 'remove') {
    if (!exists) return undefined;
    if (Array.isArray(value)) return value.filter((_, i) => i !== Number(key));
    const { [key]: _removed, ...kept } = value;
    return kept;
  }
  // An upsert may add a key to an object, but not grow an array.
  if (Array.isArray(value) && !exists) return undefined;
  const copy: Container = Array.isArray(value) ? [...value] : { ...value };
  (copy as Record<string, unknown>)[key] = mask.value;
  return copy;
}

/** The entry with every mask that found its path applied, and which ones those were. */
export function applyLogMasks(parts: LoggedParts, masks: LogMask[]): { parts: LoggedParts; applied: MaskApplied[] } {
  let current: Record<string, unknown> = { input: parts.input, result: parts.result };
  const applied: MaskApplied[] = [];
  for (const mask of masks) {
    const segments = parsePointer(mask.path);
    if (segments[0] !== 'input' && segments[0] !== 'result') continue;
    const next = applyAt(current, segments, mask);
    if (next === undefined) continue;
    current = next as Record<string, unknown>;
    applied.push({ op: mask.op, path: mask.path });
  }
  return { parts: { input: current.input, result: current.result }, applied };
}
