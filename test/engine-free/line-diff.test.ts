// The console's line diff: what it says of small known changes, that it always rebuilds both texts,
// that its edits are as few as a longest common subsequence allows, and its hunks.
import t from 'tap';
import { type DiffLine, diffLines, hunks, linesDiffer, splitLines } from '../../console/src/components/line-diff.ts';

const marked = (lines: readonly DiffLine[]) =>
  lines.map((line) => `${line.kind === 'same' ? ' ' : line.kind === 'removed' ? '-' : '+'}${line.text}`);

const oldSide = (lines: readonly DiffLine[]) => lines.filter((line) => line.kind !== 'added').map((line) => line.text);
const newSide = (lines: readonly DiffLine[]) =>
  lines.filter((line) => line.kind !== 'removed').map((line) => line.text);
const edits = (lines: readonly DiffLine[]) => lines.filter((line) => line.kind !== 'same').length;

/** The length of a longest common subsequence, by the textbook table. */
function lcs(a: readonly string[], b: readonly string[]): number {
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      (table[i] as number[])[j] =
        a[i - 1] === b[j - 1]
          ? ((table[i - 1] as number[])[j - 1] as number) + 1
          : Math.max((table[i - 1] as number[])[j] as number, (table[i] as number[])[j - 1] as number);
  return (table[a.length] as number[])[b.length] as number;
}

/** A small deterministic generator, so a failure can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

t.test('when one line changes, then it reads as that line removed and its new text added', async (t) => {
  const diff = diffLines('package a\n\nallow if x\n', 'package a\n\nallow if y\n');
  t.same(marked(diff), [' package a', ' ', '-allow if x', '+allow if y']);
  t.same(
    diff.map((line) => [line.before, line.after]),
    [
      [1, 1],
      [2, 2],
      [3, null],
      [null, 3],
    ],
    'each line keeps its number on the side it is on',
  );
});

t.test('when lines are inserted or deleted in the middle, then only those are marked', async (t) => {
  t.same(marked(diffLines('a\nb\nc\nd\n', 'a\nb\nx\nc\nd\n')), [' a', ' b', '+x', ' c', ' d']);
  t.same(marked(diffLines('a\nb\nc\nd\n', 'a\nd\n')), [' a', '-b', '-c', ' d']);
  t.same(
    marked(diffLines('a\nb\nc\n', 'c\nb\na\n')).filter((line) => line[0] === ' ').length,
    1,
    'one line kept of a reversal',
  );
});

t.test('when a side is empty, then the whole other side is added or removed', async (t) => {
  t.same(marked(diffLines('', 'a\nb\n')), ['+a', '+b']);
  t.same(marked(diffLines('a\nb', '')), ['-a', '-b']);
  t.same(diffLines('', ''), []);
});

t.test('when texts differ only in line endings, then they do not differ', async (t) => {
  t.notOk(linesDiffer('a\nb\n', 'a\r\nb'), 'CRLF and a missing final newline are no change');
  t.ok(linesDiffer('a\nb\n', 'a\nb\n\n'), 'an extra empty line is one');
  t.same(splitLines('a\n\nb\n'), ['a', '', 'b']);
});

t.test('when texts are random, then the diff rebuilds both and makes the fewest edits', async (t) => {
  const next = random(17);
  const words = ['allow', 'deny', 'if', '}', '', 'x := 1', 'default allow := false'];
  const text = () =>
    Array.from({ length: Math.floor(next() * 30) }, () => words[Math.floor(next() * words.length)]).join('\n');
  for (let round = 0; round < 300; round++) {
    const before = text();
    const after = text();
    const diff = diffLines(before, after);
    const a = splitLines(before);
    const b = splitLines(after);
    if (
      JSON.stringify(oldSide(diff)) !== JSON.stringify(a) ||
      JSON.stringify(newSide(diff)) !== JSON.stringify(b) ||
      edits(diff) !== a.length + b.length - 2 * lcs(a, b)
    ) {
      t.fail(`round ${round}`, { before, after, lines: marked(diff) });
      return;
    }
  }
  t.pass('300 random pairs');
});

t.test('when files are long and much changed, then the diff still rebuilds both', async (t) => {
  const a = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
  const b = Array.from({ length: 3000 }, (_, i) => `other ${i}`);
  const diff = diffLines(a.join('\n'), b.join('\n'));
  t.same(oldSide(diff), a);
  t.same(newSide(diff), b);
  t.equal(edits(diff), 6000);
});

t.test('when changes are far apart, then each is a hunk with three lines of context', async (t) => {
  const before = Array.from({ length: 30 }, (_, i) => `l${i + 1}`);
  const after = [...before];
  after[4] = 'changed 5';
  after[24] = 'changed 25';
  const parts = hunks(diffLines(before.join('\n'), after.join('\n')));
  t.equal(parts.length, 2);
  t.same(marked(parts[0]?.lines ?? []), [' l2', ' l3', ' l4', '-l5', '+changed 5', ' l6', ' l7', ' l8']);
  t.equal(parts[0]?.skipped, 1, 'line 1 left out before the first');
  t.equal(parts[1]?.skipped, 13, 'lines 9 to 21 between them');
  t.equal(parts[1]?.lines[0]?.before, 22);
  t.same(hunks(diffLines('a\nb\n', 'a\nb\n')), [], 'no change, no hunk');
});

t.test('when changes are close, then they share one hunk', async (t) => {
  const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
  const after = before.map((line, i) => (i === 5 || i === 11 ? `${line}!` : line));
  const parts = hunks(diffLines(before.join('\n'), after.join('\n')));
  t.equal(parts.length, 1);
  t.equal(parts[0]?.lines[0]?.before, 3);
  t.equal(parts[0]?.lines.at(-1)?.before, 15);
});
