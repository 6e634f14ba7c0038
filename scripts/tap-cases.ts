// Counts the test cases in a TAP stream written by tap: a test case is a subtest with no subtests
// of its own (a file without subtests is one), not an assertion — a test asserting in a loop of
// 1,000 is one test. A failure outside any test case (a "given" block's own check, a timeout, a
// file that crashed, a plan not met) counts as one more failed case, so nothing failing is lost.
//
//   node scripts/tap-cases.ts <tap-output> <results-file>
//
// Prints each failed case, then "N passed, N failed, N skipped"; writes "<passed> <failed>
// <skipped> skipped" to the results file. Exits 1 when the stream is not a whole tap run (no plan,
// fewer files than planned, a bail out) or holds no test case at all; 0 otherwise, failed cases or
// not (the caller fails the suite on those and on tap's own exit status).
import { readFileSync, writeFileSync } from 'node:fs';
import { Parser, type FinalResults, type Result } from 'tap-parser';

interface Node {
  name: string;
  /** Assertions of this test itself, not the closing points of its subtests. */
  own: Result[];
  children: Node[];
  /** The test point that closed it in its parent (absent for the root, or a stream cut short). */
  closing: Result | null;
  parser: Parser;
}

function follow(parser: Parser, node: Node): void {
  parser.on('child', (child: Parser) => {
    const sub: Node = { name: child.name, own: [], children: [], closing: null, parser: child };
    node.children.push(sub);
    follow(child, sub);
  });
  parser.on('assert', (result: Result) => {
    // A test point arriving while a subtest is open closes that subtest.
    if (result.closingTestPoint) {
      const open = node.children.at(-1);
      if (open !== undefined && open.closing === null) {
        open.closing = result;
        return;
      }
    }
    node.own.push(result);
  });
}

const failed = (result: Result) => !result.ok && !result.todo && !result.skip;

/** The failed assertions, each with where it is and what tap said of it (a diff, found and wanted, an error). */
function describe(results: Result[]): string {
  return results
    .map((r) => {
      const diag = (r.diag ?? {}) as {
        at?: { fileName?: string; lineNumber?: number };
        diff?: string;
        found?: unknown;
        wanted?: unknown;
        message?: string;
      };
      const at = diag.at?.fileName ? ` (${diag.at.fileName}:${diag.at.lineNumber})` : '';
      const said =
        diag.diff ??
        (diag.found !== undefined || diag.wanted !== undefined
          ? `found ${JSON.stringify(diag.found)}, wanted ${JSON.stringify(diag.wanted)}`
          : (diag.message ?? ''));
      const lines = said
        .trim()
        .split('\n')
        .slice(0, 12)
        .map((line) => `\n        ${line}`)
        .join('');
      return `\n    not ok - ${r.name || '(unnamed)'}${at}${lines}`;
    })
    .join('');
}

interface Tally {
  passed: number;
  failed: string[];
  skipped: number;
}

function tally(node: Node, path: string[], into: Tally): void {
  const here = node.name === '' ? path : [...path, node.name];
  const failedBefore = into.failed.length;
  for (const child of node.children) tally(child, here, into);
  const where = here.join(' > ') || '(tap itself)';
  const ownFailures = node.own.filter(failed);
  // A skipped subtest never opens: it is a test point of its parent marked SKIP.
  into.skipped += node.own.filter((r) => r.skip || r.todo).length;
  if (node.children.length === 0 && node.parser.parent !== null) {
    if (node.closing?.skip || node.closing?.todo) into.skipped += 1;
    else if (ownFailures.length === 0 && node.closing?.ok === true) into.passed += 1;
    else
      into.failed.push(
        `${where}${describe(ownFailures.length > 0 ? ownFailures : node.closing ? [node.closing] : [])}`,
      );
    return;
  }
  // Not a test case itself: its own failures, or its failing when none of its cases did (a crash,
  // a timeout, a plan not met), count as one failure more. A file that ran out of time is one
  // failure, whether tap says so in the file or beside it (a "timeout!" point naming it).
  const expired = (r: Result) =>
    r.name === 'timeout!' ? ((r.diag as { expired?: string } | null)?.expired ?? null) : null;
  const counted = (file: string) =>
    into.failed.some(
      (failure) => failure.startsWith(`${file} >`) || failure === file || failure.startsWith(`${file}\n`),
    );
  for (const result of ownFailures.filter((r) => expired(r) !== null)) {
    const file = expired(result) as string;
    if (!counted(file)) into.failed.push(`${file}: timed out`);
  }
  const others = ownFailures.filter((r) => expired(r) === null);
  if (others.length > 0) into.failed.push(`${where}${describe(others)}`);
  else if (
    ownFailures.length === 0 &&
    node.closing !== null &&
    failed(node.closing) &&
    into.failed.length === failedBefore
  )
    into.failed.push(`${where}${describe([node.closing])}`);
}

const [input, output] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('usage: node scripts/tap-cases.ts <tap-output> <results-file>');
  process.exit(2);
}
const root = new Parser();
const node: Node = { name: '', own: [], children: [], closing: null, parser: root };
follow(root, node);
const run: { results: FinalResults | null } = { results: null };
root.on('complete', (results: FinalResults) => (run.results = results));
root.end(readFileSync(input, 'utf8'));

const counts: Tally = { passed: 0, failed: [], skipped: 0 };
tally(node, [], counts);
const problems: string[] = [];
const result = run.results;
// With no plan in the stream, the parser makes one up ("1..0 # no tests found").
if (result === null || result.plan.end === null || root.syntheticPlan) problems.push('no plan: not a whole tap run');
else if (result.count < result.plan.end)
  problems.push(`${result.count} of the ${result.plan.end} planned test files reported`);
if (result?.bailout) problems.push(`bailed out: ${String(result.bailout)}`);
if (counts.passed + counts.failed.length + counts.skipped === 0) problems.push('no test case ran');

for (const name of counts.failed) console.log(`FAILED ${name}`);
for (const problem of problems) console.log(`PROBLEM ${problem}`);
// A stream that is not whole is a failure even where every case it holds passed.
const failures = counts.failed.length + (problems.length > 0 && counts.failed.length === 0 ? 1 : 0);
console.log(`${counts.passed} passed, ${failures} failed, ${counts.skipped} skipped`);
writeFileSync(output, `${counts.passed} ${failures} ${counts.skipped} skipped\n`);
process.exit(problems.length > 0 ? 1 : 0);
