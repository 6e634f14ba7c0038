// The decision log's writer thread never holds its process open: a process whose thread was
// started, and never closed (a write that came after the log's stop starts one), still exits
// when it has nothing else to do.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const THREAD = join(import.meta.dirname, '../../service/data/decision-log-thread.ts');

t.test('given a process that starts the writer thread and never closes it, then it exits by itself', async (t) => {
  // The thread opens its pool without connecting: no database is needed until a write.
  const script = `
    import { DecisionLogThread } from ${JSON.stringify(THREAD)};
    const failed = (obj, msg) => process.stderr.write(msg + ' ' + JSON.stringify(obj));
    const quiet = { info() {}, warn() {}, error: failed };
    new DecisionLogThread({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', metrics: {}, log: quiet }).start();
    process.stdout.write('started');
  `;
  // A file, not -e: the thread inherits the process's options, and --input-type would stop it.
  const dir = mkdtempSync(join(tmpdir(), 'clearance-thread-exit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'start.mjs'), script);
  const run = spawnSync(process.execPath, [join(dir, 'start.mjs')], { encoding: 'utf8', timeout: 20_000 });
  t.equal(run.stdout, 'started', 'the thread was started');
  t.equal(run.stderr, '', 'the thread ran: it reported no failure');
  t.equal(run.signal, null, 'the process was not killed at the 20 s bound: it exited');
  t.equal(run.status, 0, 'exit code 0');
});
