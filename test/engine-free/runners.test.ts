// The runner scripts of `make test`, each with a stand-in for the tool it runs (tap, opa, make)
// first on PATH: a tool that fails, prints no summary or runs no test must fail the runner, and
// through it make test; the counts printed are test cases, not assertions or corpus inputs.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';

const ROOT = resolve(import.meta.dirname, '../..');

interface Run {
  status: number | null;
  output: string;
  /** What the runner wrote to .build/test-results/<name>, or null. */
  results(name: string): string | null;
}

/**
 * Runs a script of scripts/ in a folder of its own (where it writes .build/test-results), with the
 * stand-ins (name → shell script) first on PATH.
 */
function runWith(script: string, args: string[], standIns: Record<string, string>): Run {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-runner-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const [name, body] of Object.entries(standIns)) {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const run = spawnSync('bash', [join(ROOT, 'scripts', script), ...args], {
    cwd: dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: run.status,
    output: `${run.stdout}${run.stderr}`,
    results: (name) => {
      try {
        return readFileSync(join(dir, '.build/test-results', name), 'utf8').trim();
      } catch {
        return null;
      }
    },
  };
}

/** A stand-in that prints a file as its output and exits with a code, as the test says. */
const printing = (file: string, code: number, stderr = '') =>
  `cat ${JSON.stringify(file)}; ${stderr ? `echo ${JSON.stringify(stderr)} >&2; ` : ''}exit ${code}`;

/** Writes text to a fresh file; returns its path. */
function fixture(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'clearance-fixture-')), 'output');
  writeFileSync(file, text);
  return file;
}

// TAP as tap 21 writes it with --reporter=tap: each file a subtest, its tests subtests of it.
const assertions = (n: number, indent: string) =>
  Array.from({ length: n }, (_, i) => `${indent}ok ${i + 1} - should be equal`).join('\n');
const PASSING_RUN = `TAP version 14
1..2
# Subtest: test/a.test.ts
    # Subtest: when looped, then each holds
${assertions(1000, '        ')}
        1..1000
    ok 1 - when looped, then each holds # time=6.365ms

    # Subtest: when asked, then it answers
        ok 1 - should be equal
        1..1
    ok 2 - when asked, then it answers # time=1ms

    1..2
ok 1 - test/a.test.ts # time=100ms

# Subtest: test/b.test.ts
    ok 1 - a file without subtests is one test
    1..1
ok 2 - test/b.test.ts # time=50ms

# { total: 1004, pass: 1004 }
`;
const FAILING_RUN = `TAP version 14
1..2
# Subtest: test/a.test.ts
    # Subtest: given a thing
        ok 1 - setup holds
        # Subtest: when looped, then each holds
${assertions(5, '            ')}
            1..5
        ok 2 - when looped, then each holds # time=6.365ms

        # Subtest: when wrong, then it fails
            not ok 1 - one is two
              ---
              compare: ===
              at:
                fileName: test/a.test.ts
                lineNumber: 5
              diff: |
                --- expected
                +++ actual
                @@ -1,1 +1,1 @@
                -2
                +1
              ...

            1..1
        not ok 3 - when wrong, then it fails # time=32.128ms

        ok 4 - when skipped # SKIP not here
        1..4
    not ok 1 - given a thing # time=52.143ms
    1..1
not ok 1 - test/a.test.ts # time=100ms

# Subtest: test/b.test.ts
    # Subtest: when fine
        ok 1 - fine
        1..1
    ok 1 - when fine # time=1ms
    1..1
ok 2 - test/b.test.ts # time=50ms

# { total: 9, pass: 8, fail: 1 }
`;

t.test('scripts/test-tap.sh with a stand-in tap', async (t) => {
  const tapSuite = (tapScript: string) => runWith('test-tap.sh', ['stand-in'], { tap: tapScript });

  t.test(
    'when tap prints an error and exits 1 without any TAP, then the suite fails and counts one failure',
    async (t) => {
      const run = tapSuite(printing('/dev/null', 1, 'tap: cannot load the TypeScript plugin'));
      t.not(run.status, 0, run.output);
      t.match(run.output, /tap stand-in: 0 passed, 1 failed, 0 skipped \(tap exit status 1/);
      t.match(run.output, /PROBLEM no plan/);
      t.match(run.output, /tap: cannot load the TypeScript plugin/, 'what tap said is shown');
      t.equal(run.results('tap-stand-in'), '0 1 0 skipped');
    },
  );

  t.test('when tap prints a passing run but exits 1, then the suite fails', async (t) => {
    const run = tapSuite(printing(fixture(PASSING_RUN), 1));
    t.not(run.status, 0);
    t.match(run.output, /tap stand-in: 3 passed, 1 failed, 0 skipped \(tap exit status 1/);
    t.equal(run.results('tap-stand-in'), '3 1 0 skipped');
  });

  t.test('when tap exits 0 having run no test, then the suite fails', async (t) => {
    const run = tapSuite(printing(fixture('TAP version 14\n1..0\n# { total: 0 }\n'), 0));
    t.not(run.status, 0);
    t.match(run.output, /PROBLEM no test case ran/);
    t.match(run.output, /0 passed, 1 failed/);
  });

  t.test(
    'when tap exits 0 with its output cut short (a file planned, never reported), then the suite fails',
    async (t) => {
      const cut = PASSING_RUN.slice(0, PASSING_RUN.indexOf('# Subtest: test/b.test.ts'));
      const run = tapSuite(printing(fixture(cut), 0));
      t.not(run.status, 0);
      t.match(run.output, /PROBLEM 1 of the 2 planned test files reported/);
      t.match(run.output, /tap stand-in: 2 passed, 1 failed/);
    },
  );

  t.test(
    'when a test case fails, then the suite fails, naming it with what tap said, and counts cases, not assertions',
    async (t) => {
      const run = tapSuite(printing(fixture(FAILING_RUN), 1));
      t.not(run.status, 0);
      t.match(
        run.output,
        /FAILED test\/a\.test\.ts > given a thing > when wrong, then it fails\n +not ok - one is two \(test\/a\.test\.ts:5\)\n +--- expected/,
      );
      t.match(run.output, /tap stand-in: 2 passed, 1 failed, 1 skipped/);
      t.equal(run.results('tap-stand-in'), '2 1 1 skipped');
    },
  );

  t.test(
    'when a file runs out of time, then it counts as one failure, not one in the file and one beside it',
    async (t) => {
      const timedOut = `TAP version 14
1..1
# Subtest: test/slow.test.ts
    # Subtest: when slow, then it never ends
        not ok 1 - test unfinished
        1..1
    not ok 1 - when slow, then it never ends # time=300000ms
    1..1
not ok 1 - test/slow.test.ts # time=300000ms

not ok 2 - timeout!
  ---
  expired: test/slow.test.ts
  ...
`;
      const run = tapSuite(printing(fixture(timedOut), 1));
      t.not(run.status, 0);
      t.match(run.output, /FAILED test\/slow\.test\.ts > when slow, then it never ends/);
      t.equal(run.results('tap-stand-in'), '0 1 0 skipped');
    },
  );

  t.test('when every case passes and tap exits 0, then the suite passes, a looped test counting once', async (t) => {
    const run = tapSuite(printing(fixture(PASSING_RUN), 0));
    t.equal(run.status, 0, run.output);
    t.match(run.output, /tap stand-in: 3 passed, 0 failed, 0 skipped \(tap exit status 0/);
    t.equal(run.results('tap-stand-in'), '3 0 0 skipped');
  });
});

t.test('scripts/test-rego.sh with a stand-in opa', async (t) => {
  /** opa answering `opa test` with testOutput/testCode and `opa test --coverage` with coverageOutput/coverageCode. */
  const opa = (test: [string, number], coverage: [string, number]) => `if [[ " $* " == *" --coverage "* ]]; then
  ${printing(fixture(coverage[0]), coverage[1])}
fi
${printing(fixture(test[0]), test[1])}`;
  const rego = (script: string) => runWith('test-rego.sh', ['opa', '95'], { opa: script });
  const twoPassed = JSON.stringify([
    { package: 'data.x', name: 'test_a' },
    { package: 'data.x', name: 'test_b' },
  ]);

  t.test('when opa test fails printing no results, then the runner fails and counts one failure', async (t) => {
    const run = rego(opa(['opa: policies: no such directory', 1], ['', 1]));
    t.not(run.status, 0);
    t.match(run.output, /its output could not be read/);
    t.equal(run.results('rego'), '0 1');
  });

  t.test('when opa test runs no test at all, then the runner fails', async (t) => {
    const run = rego(opa(['[]', 0], ['{"coverage": 100}', 0]));
    t.not(run.status, 0);
    t.match(run.output, /opa test: no test ran/);
    t.equal(run.results('rego'), '0 1');
  });

  t.test('when a Rego test fails, then the runner fails naming it', async (t) => {
    const run = rego(
      opa(
        [
          JSON.stringify([
            { package: 'data.x', name: 'test_a' },
            { package: 'data.x', name: 'test_b', fail: true },
          ]),
          2,
        ],
        ['{"coverage": 100}', 0],
      ),
    );
    t.not(run.status, 0);
    t.match(run.output, /FAIL data\.x\.test_b/);
    t.equal(run.results('rego'), '1 1');
  });

  t.test('when coverage cannot be measured, then the runner fails', async (t) => {
    const run = rego(opa([twoPassed, 0], ['panic', 2]));
    t.not(run.status, 0);
    t.match(run.output, /coverage: could not be measured/);
    t.equal(run.results('rego'), '2 1');
  });

  t.test('when coverage is below the floor, then the runner fails', async (t) => {
    const run = rego(opa([twoPassed, 0], ['{"coverage": 80}', 0]));
    t.not(run.status, 0);
    t.match(run.output, /coverage below 95%/);
  });

  t.test('when every test passes with coverage above the floor, then the runner passes', async (t) => {
    const run = rego(opa([twoPassed, 0], ['{"coverage": 97.5}', 0]));
    t.equal(run.status, 0, run.output);
    t.match(run.output, /opa test: 2 passed, 0 failed/);
    t.equal(run.results('rego'), '2 0');
  });
});

t.test('scripts/test-all.sh (make test) with a stand-in make', async (t) => {
  // Each target passes, and a counted one writes its counts, unless the test says otherwise.
  const counts: Record<string, [file: string, counts: string]> = {
    'policy-test': ['rego', '182 0'],
    'test-engine-free': ['tap-engine-free', '60 0 0 skipped'],
    'test-postgres': ['tap-postgres', '200 0 0 skipped'],
    'test-pglite': ['tap-pglite', '190 0 10 skipped'],
    'test-faults': ['faults', '30 0'],
    'test-differential': ['differential', '7 0 11672 inputs'],
    'test-browser': ['tap-browser', '40 0 0 skipped'],
  };
  const make = (overrides: Record<string, { counts?: string | null; code: number }> = {}) => {
    const cases = Object.keys({
      ...counts,
      ...overrides,
      policies: 0,
      console: 0,
      'policy-fmt': 0,
      'policy-lint': 0,
      typecheck: 0,
      lint: 0,
      'format-check': 0,
      'openapi-check': 0,
    }).map((target) => {
      const [file, written] = counts[target] ?? [null, null];
      const override = overrides[target];
      const text = override === undefined ? written : (override.counts ?? null);
      const write =
        file !== null && text !== null
          ? `mkdir -p .build/test-results; echo ${JSON.stringify(text)} > .build/test-results/${file}; `
          : '';
      return `  ${target}) ${write}echo "ran ${target}"; exit ${override?.code ?? 0} ;;`;
    });
    return `case "\${@: -1}" in\n${cases.join('\n')}\n  *) echo "no target $*"; exit 2 ;;\nesac`;
  };
  const makeTest = (overrides?: Record<string, { counts?: string | null; code: number }>) =>
    runWith('test-all.sh', [], { make: make(overrides) });
  const closing = (output: string) => output.trim().split('\n').at(-1);

  t.test(
    'when every step passes, then it exits 0 and the closing line adds up the test cases and names the inputs checked',
    async (t) => {
      const run = makeTest();
      t.equal(run.status, 0, run.output);
      t.equal(
        closing(run.output),
        '717 passed, 0 failed; the differential checked 11672 inputs',
        '8 checks + 182 + 60 + 200 + 190 + 30 + 7 + 40',
      );
      t.match(run.output, /tap on pglite: 190 passed, 0 failed, 10 skipped/);
    },
  );

  t.test('when the differential runner fails without writing counts, then make test fails and counts it', async (t) => {
    const run = makeTest({ 'test-differential': { counts: null, code: 1 } });
    t.not(run.status, 0);
    t.equal(closing(run.output), '710 passed, 1 failed; the differential checked 0 inputs');
    t.match(run.output, /failed: differential/);
  });

  t.test(
    'when a tap suite exits non-zero although its counts say nothing failed, then make test fails and counts one failure',
    async (t) => {
      const run = makeTest({ 'test-pglite': { counts: '190 0 0 skipped', code: 2 } });
      t.not(run.status, 0);
      t.equal(closing(run.output), '717 passed, 1 failed; the differential checked 11672 inputs');
    },
  );

  t.test('when a counted step exits 0 but writes no counts, then make test fails', async (t) => {
    const run = makeTest({ 'test-engine-free': { counts: null, code: 0 } });
    t.not(run.status, 0);
    t.match(run.output, /wrote no counts/);
    t.equal(closing(run.output), '657 passed, 1 failed; the differential checked 11672 inputs');
  });

  t.test('when the Rego runner fails and a check fails, then both are counted and make test fails', async (t) => {
    const run = makeTest({ 'policy-test': { counts: '180 2', code: 1 }, typecheck: { code: 2 } });
    t.not(run.status, 0);
    t.equal(closing(run.output), '714 passed, 3 failed; the differential checked 11672 inputs');
    t.match(run.output, /failed: rego tests typecheck/);
  });
});

t.test('test/differential/run.ts with a stand-in opa', async (t) => {
  const differential = (opa: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'clearance-differential-'));
    writeFileSync(join(dir, 'opa'), `#!/usr/bin/env bash\n${opa}\n`);
    chmodSync(join(dir, 'opa'), 0o755);
    const results = join(dir, 'differential');
    const run = spawnSync(process.execPath, [join(ROOT, 'test/differential/run.ts'), join(dir, 'opa'), results], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    let written: string | null = null;
    try {
      written = readFileSync(results, 'utf8').trim();
    } catch {
      // none
    }
    return { status: run.status, output: `${run.stdout}${run.stderr}`, written };
  };

  t.test('when opa eval fails, then the differential fails, every test counted failed', async (t) => {
    const run = differential('echo "opa: out of memory" >&2; exit 1');
    t.equal(run.status, 1, run.output);
    t.match(run.output, /opa eval failed: opa eval exited with 1: opa: out of memory/);
    t.match(run.written, /^0 ([2-9]|\d\d+) \d+ inputs$/, 'none passed, each area and the lists failed');
  });

  t.test(
    'when opa answers, but every decision differently, then each area fails and the mismatches are shown',
    async (t) => {
      // Answers every input with a deny the policy never gives, in the shape run.ts reads.
      const lying = `node -e '
      const fs = require("fs");
      const input = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
      const value = { singles: input.singles.map(() => [{ allow: false, reasons: [{ code: "made_up", message: "made up" }] }]), groups: input.groups.map(() => []), messages: {} };
      console.log(JSON.stringify({ result: [{ expressions: [{ value }] }] }));
    ' "$(for ((i = 1; i <= $#; i++)); do if [ "\${!i}" = --input ]; then j=$((i + 1)); echo "\${!j}"; fi; done)"`;
      const run = differential(lying);
      t.equal(run.status, 1, run.output.slice(-2000));
      t.match(run.output, /MISMATCH #0 clients: /);
      t.match(run.output, /not ok - malformed: \d+ inputs, \d+ mismatched/);
      const tests = run.output.match(/^(not )?ok - /gm) ?? [];
      t.ok(tests.length >= 7, `a test per area and one for the lists (${tests.length})`);
      t.equal(
        run.written,
        `0 ${tests.length} ${/over (\d+) inputs/.exec(run.output)?.[1]} inputs`,
        'every one of them failed',
      );
    },
  );
});
