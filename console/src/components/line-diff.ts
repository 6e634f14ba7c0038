// A line diff of two texts (Myers' O(ND) algorithm: a shortest edit script, so a changed line reads
// as one removal and one addition), and its grouping into hunks with a few lines of context.
// Used to compare two revisions' Rego; plain data out, so a page renders it as text.

export type DiffKind = 'same' | 'removed' | 'added';

export interface DiffLine {
  kind: DiffKind;
  text: string;
  /** 1-based line number in the old text (null for an added line). */
  before: number | null;
  /** 1-based line number in the new text (null for a removed line). */
  after: number | null;
}

export interface Hunk {
  lines: DiffLine[];
  /** Unchanged lines left out before this hunk. */
  skipped: number;
}

/** Past this many edits the search stops and the rest reads as all removed, then all added. */
const MAX_EDITS = 2000;

/** A text's lines: a final newline ends the last line rather than starting an empty one. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Every line of both texts in order: unchanged lines once, removed before added at each change. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  // Common ends cost the search nothing but memory: take them off first.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const script = editScript(a.slice(start, endA), b.slice(start, endB));
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  const same = () => {
    out.push({ kind: 'same', text: a[i] as string, before: i + 1, after: j + 1 });
    i += 1;
    j += 1;
  };
  while (i < start) same();
  for (const step of script) {
    if (step === '=') same();
    else if (step === '-') {
      out.push({ kind: 'removed', text: a[i] as string, before: i + 1, after: null });
      i += 1;
    } else {
      out.push({ kind: 'added', text: b[j] as string, before: null, after: j + 1 });
      j += 1;
    }
  }
  while (i < a.length) same();
  return out;
}

/** Whether two texts differ line by line (a missing final newline, or CRLF for LF, is no change). */
export const linesDiffer = (before: string, after: string): boolean =>
  diffLines(before, after).some((line) => line.kind !== 'same');

/**
 * The changed stretches of a diff, each with up to `context` unchanged lines around it; stretches
 * closer than twice that are one hunk. No changes: no hunks.
 */
export function hunks(lines: readonly DiffLine[], context = 3): Hunk[] {
  const changed: number[] = [];
  lines.forEach((line, index) => {
    if (line.kind !== 'same') changed.push(index);
  });
  const out: Hunk[] = [];
  let shownTo = 0;
  let k = 0;
  while (k < changed.length) {
    const first = changed[k] as number;
    let last = first;
    while (k + 1 < changed.length && (changed[k + 1] as number) - last <= 2 * context + 1) {
      k += 1;
      last = changed[k] as number;
    }
    const from = Math.max(first - context, shownTo);
    const to = Math.min(last + context + 1, lines.length);
    out.push({ lines: lines.slice(from, to), skipped: from - shownTo });
    shownTo = to;
    k += 1;
  }
  return out;
}

/**
 * Myers' greedy search for the furthest-reaching path on each diagonal k = x - y, keeping each
 * round's frontier to walk the path back. '=' keeps a line, '-' removes one of a, '+' adds one of b.
 */
function editScript(a: readonly string[], b: readonly string[]): Array<'=' | '-' | '+'> {
  const n = a.length;
  const m = b.length;
  if (n === 0) return new Array<'+'>(m).fill('+');
  if (m === 0) return new Array<'-'>(n).fill('-');
  const limit = Math.min(n + m, MAX_EDITS);
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  // trace[d][k + d]: the furthest x on diagonal k after round d.
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d += 1) {
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number));
      let x = down ? (v[offset + k + 1] as number) : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice(offset - d, offset + d + 1));
        return walkBack(trace, n, m);
      }
    }
    trace.push(v.slice(offset - d, offset + d + 1));
  }
  // Too different to be worth the search: everything out, everything in.
  return [...new Array<'-'>(n).fill('-'), ...new Array<'+'>(m).fill('+')];
}

function walkBack(trace: readonly Int32Array[], n: number, m: number): Array<'=' | '-' | '+'> {
  const steps: Array<'=' | '-' | '+'> = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d -= 1) {
    const previous = trace[d - 1] as Int32Array;
    const at = (k: number) => previous[k + d - 1] as number;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const previousK = down ? k + 1 : k - 1;
    const previousX = at(previousK);
    const previousY = previousX - previousK;
    // The snake after the edit: lines kept.
    while (x > (down ? previousX : previousX + 1) && y > (down ? previousY + 1 : previousY)) {
      steps.push('=');
      x -= 1;
      y -= 1;
    }
    steps.push(down ? '+' : '-');
    x = previousX;
    y = previousY;
  }
  while (x > 0 && y > 0) {
    steps.push('=');
    x -= 1;
    y -= 1;
  }
  return steps.reverse();
}
