// The first `make run` / `make tools` compiles OPA with go install, which takes minutes and says
// nothing of itself: the install script says what it does, and that it is once, before it starts.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

t.test(
  'given Go on the PATH, when a Go tool is installed, then the script says it is compiling, for minutes and once, before go runs',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'clearance-tools-'));
    // A stand-in for go: says when it runs, and leaves a binary where go install would.
    writeFileSync(join(dir, 'go'), '#!/usr/bin/env bash\necho "GO RAN: $*"\ntouch "$GOBIN/opa"\n');
    chmodSync(join(dir, 'go'), 0o755);
    const bin = join(dir, 'bin');
    const run = spawnSync(
      'scripts/install-go-tool.sh',
      ['opa', 'github.com/open-policy-agent/opa', 'v1.22.2', bin, 'http://127.0.0.1:9/unused'],
      {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        encoding: 'utf8',
      },
    );
    t.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    const goRan = lines.findIndex((line) =>
      line.startsWith('GO RAN: install github.com/open-policy-agent/opa@v1.22.2'),
    );
    t.ok(goRan > 0, 'go install ran', { lines });
    const before = lines.slice(0, goRan).join('\n');
    t.match(before, /compiling opa v1\.22\.2 from source with go install/);
    t.match(before, /takes a few minutes .* happens once/);
    t.match(lines.at(-1), /^installed opa v1\.22\.2 into .* \(\d+ s\)$/);
    t.ok(existsSync(join(bin, 'opa')));
  },
);
