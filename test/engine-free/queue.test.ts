// The decision log queue on its own, with a stand-in for the database write: batching, group
// commit, retries, backpressure, durable waits, refused rows, and the spill at shutdown.
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { NewDecisionLogRow } from '../../service/data/schema.ts';
import {
  DecisionLog,
  type DecisionLogEntry,
  type DecisionLogOptions,
} from '../../service/domain/decision-log/index.ts';
import { Metrics } from '../../service/domain/metrics.ts';
import { AppError } from '../../service/errors.ts';
import type { LogMask } from '../../service/policy/answers.ts';
import { connectionLost, logEntry as entry, stopWithin } from '../helpers/decision-log.ts';
import { settled, until } from '../helpers/wait.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What a promise was refused with; null when it was kept. */
const refusalOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (e: unknown) => e,
  );

function makeLog(options: Partial<DecisionLogOptions> & Pick<DecisionLogOptions, 'write'>) {
  const metrics = new Metrics({ processMetrics: false });
  const log = new DecisionLog({
    mode: 'buffered',
    queueMax: 10_000,
    masks: (): LogMask[] => [{ op: 'remove', path: '/input/account/name' }],
    markRefused: async () => undefined,
    metrics,
    log: quiet,
    spillDir: null,
    ...options,
  });
  return { log, metrics };
}

/** A write the test completes by hand. */
function heldWrites() {
  const calls: Array<{ rows: NewDecisionLogRow[]; done: () => void; fail: (e: Error) => void }> = [];
  const write = (rows: NewDecisionLogRow[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ rows, done: resolve, fail: reject });
    });
  return { calls, write };
}

const value = async (metrics: Metrics, name: string) =>
  (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;

t.test(
  'given buffered mode, when answers are recorded, then record returns at once and a writer stores them in order, masked',
  async (t) => {
    const written: NewDecisionLogRow[] = [];
    const { log } = makeLog({ write: async (rows) => void written.push(...rows) });
    const entries = [entry(), entry(), entry()];
    await log.record(entries);
    t.equal(log.depth, 3, 'queued, not yet written: the writer has not started');
    log.start();
    await until(() => log.depth === 0, 'the writer to store them');
    t.same(
      written.map((r) => r.decision_id),
      entries.map((e) => e.decisionId),
    );
    const input = JSON.parse(written[0]?.input as string);
    t.same(input.account, { id: 'a1' }, 'the account name is masked');
    t.same(JSON.parse(written[0]?.masked as string), [{ op: 'remove', path: '/input/account/name' }]);
    t.same(
      (entries[0]?.input as { account: object } | undefined)?.account,
      { id: 'a1', name: 'Secret Ltd' },
      "the decision's own input is untouched",
    );
    await stopWithin(log, 1000);
  },
);

t.test(
  'given durable mode, when answers arrive during a write, then each waits for its commit and they share the next write',
  async (t) => {
    const { calls, write } = heldWrites();
    const { log } = makeLog({ mode: 'durable', write });
    log.start();
    let firstDone = false;
    const first = log.record([entry()]).then(() => (firstDone = true));
    await until(() => calls.length === 1, 'the first write to start');
    const later = Array.from({ length: 50 }, () => log.record([entry()]));
    await settled();
    t.equal(firstDone, false, 'not answered before its commit');
    t.equal(calls.length, 1, 'the others wait for the write under way');
    calls[0]?.done();
    await first;
    await until(() => calls.length === 2, 'the next write');
    t.equal(calls[1]?.rows.length, 50, 'the 50 that arrived meanwhile are committed together');
    calls[1]?.done();
    await Promise.all(later);
    t.equal(log.depth, 0);
    await stopWithin(log, 1000);
  },
);

t.test(
  'given durable mode, when the commit does not come in time, then the answer is refused with decision_log_unavailable',
  async (t) => {
    const { write, calls } = heldWrites();
    const { log } = makeLog({ mode: 'durable', write, durableTimeoutMs: 100 });
    log.start();
    const error = await refusalOf(log.record([entry()]));
    t.ok(error instanceof AppError, 'refused');
    t.match(error, { statusCode: 503, code: 'decision_log_unavailable' });
    for (const call of calls) call.done();
    await stopWithin(log, 1000);
  },
);

t.test(
  'given a failing database, when writes fail, then entries stay queued, are retried and written once it returns',
  async (t) => {
    let failing = true;
    const written: NewDecisionLogRow[] = [];
    let attempts = 0;
    const { log, metrics } = makeLog({
      write: async (rows) => {
        attempts += 1;
        if (failing) throw connectionLost();
        written.push(...rows);
      },
    });
    log.start();
    await log.record([entry(), entry()]);
    await until(() => attempts >= 2, 'a second attempt');
    t.equal(log.depth, 2, 'still held');
    t.equal(await value(metrics, 'clearance_decision_log_waiting_on_database'), 2);
    failing = false;
    await until(() => log.depth === 0, 'the entries to be written once the database returns');
    t.equal(written.length, 2);
    t.equal(await value(metrics, 'clearance_decision_log_waiting_on_database'), 0);
    await stopWithin(log, 1000);
  },
);

t.test('given a full queue, when more answers are recorded, then they wait for room', async (t) => {
  const { calls, write } = heldWrites();
  const { log, metrics } = makeLog({ write, queueMax: 1000, batchMax: 500 });
  await log.record(Array.from({ length: 1000 }, () => entry()));
  let recorded = false;
  const waiting = log.record([entry()]).then(() => (recorded = true));
  await settled();
  t.equal(recorded, false, 'waits while the queue is full');
  t.equal(await value(metrics, 'clearance_decision_log_backpressure_waits_total'), 1);
  log.start();
  await until(() => calls.length === 1, 'the first write');
  calls[0]?.done();
  await waiting;
  t.equal(log.depth, 501, 'let in once a batch was written');
  // The other 500 of the first thousand, then the one let in.
  for (const [i, size] of [
    [1, 500],
    [2, 1],
  ] as const) {
    await until(() => calls.length > i, `write ${i + 1}`);
    t.equal(calls[i]?.rows.length, size);
    calls[i]?.done();
  }
  await stopWithin(log, 1000);
  t.equal(log.depth, 0);
});

t.test(
  'given one entry the database refuses, when its batch is written, then the others are stored and it is kept without its input',
  async (t) => {
    const written: NewDecisionLogRow[] = [];
    const { log } = makeLog({
      write: async (rows) => {
        if (rows.some((r) => r.input !== null && String(r.input).includes('poison'))) {
          throw Object.assign(new Error('value too long'), { code: '22001' });
        }
        written.push(...rows);
      },
    });
    const bad = entry({ input: { note: 'poison' } });
    const good = [entry(), entry()];
    await log.record([good[0] as DecisionLogEntry, bad, good[1] as DecisionLogEntry]);
    log.start();
    await stopWithin(log, 1000);
    t.same(
      written.map((r) => r.decision_id).sort(),
      [bad.decisionId, ...good.map((e) => e.decisionId)].sort(),
      'all three stored',
    );
    const kept = written.find((r) => r.decision_id === bad.decisionId);
    t.equal(kept?.input, null);
    t.match(JSON.parse(kept?.error as string), { code: 'log_entry_unstorable', message: 'value too long' });
  },
);

t.test(
  'given U+0000 and lone surrogates in keys and values, when logged, then each is stored as visible text (\\u0000, \\ud800) and masked names where',
  async (t) => {
    const written: NewDecisionLogRow[] = [];
    const { log } = makeLog({
      write: async (rows) => void written.push(...rows),
      masks: () => [{ op: 'remove', path: '/input/gone\u0000key' }],
    });
    await log.record([
      entry({
        input: {
          a: 'x\u0000y',
          b: '\\u0000 is text',
          'k\u0000/~': [1, 'z\u0000'],
          'gone\u0000key': 1,
          s: 'lone \ud800, paired 😀',
        },
        error: { code: 'policy_error', message: 'bad \u0000' },
      }),
    ]);
    log.start();
    await stopWithin(log, 1000);
    const row = written[0] as NewDecisionLogRow;
    t.same(
      JSON.parse(row.input as string),
      { a: 'x\\u0000y', b: '\\u0000 is text', 'k\\u0000/~': [1, 'z\\u0000'], s: 'lone \\ud800, paired 😀' },
      'visible, and a literal backslash-u0000 left alone',
    );
    t.same(JSON.parse(row.error as string), { code: 'policy_error', message: 'bad \\u0000' });
    t.same(JSON.parse(row.masked as string), [
      { op: 'remove', path: '/input/gone\\u0000key' },
      { op: 'escape', path: '/input/gone\\u0000key' },
      { op: 'escape', path: '/input/a' },
      { op: 'escape', path: '/input/k\\u0000~1~0' },
      { op: 'escape', path: '/input/k\\u0000~1~0/1' },
      { op: 'escape', path: '/input/s' },
      { op: 'escape', path: '/error/message' },
    ]);
    t.notOk(
      Object.values(row).some((v) => typeof v === 'string' && v.includes('\u0000')),
      'no NUL left in any column',
    );
  },
);

t.test(
  'given one entry in a thousand the database refuses, when the batch is written, then it is set apart in about 2·log2(n) writes, not one write per entry',
  async (t) => {
    const attempts: number[] = [];
    const written: NewDecisionLogRow[] = [];
    const { log, metrics } = makeLog({
      write: async (rows) => {
        attempts.push(rows.length);
        if (rows.some((r) => r.input !== null && String(r.input).includes('poison')))
          throw Object.assign(new Error('value too long'), { code: '22001' });
        written.push(...rows);
      },
    });
    const entries = Array.from({ length: 1000 }, (_, i) => entry(i === 617 ? { input: { note: 'poison' } } : {}));
    await log.record(entries);
    log.start();
    await stopWithin(log, 1000);
    t.equal(written.length, 1000, 'every entry stored');
    t.equal(written.filter((r) => r.input === null).length, 1, 'only the refused one without its input');
    t.ok(attempts.length <= 2 * Math.ceil(Math.log2(1000)) + 2, `${attempts.length} writes`);
    t.equal(
      await value(metrics, 'clearance_decision_log_isolation_writes_total'),
      attempts.length - 2,
      'each extra write counted',
    );
    t.equal(await value(metrics, 'clearance_decision_log_unstorable_total'), 1);
  },
);

t.test('given the masks cannot be evaluated, when an entry is written, then its input is not kept', async (t) => {
  const written: NewDecisionLogRow[] = [];
  const { log } = makeLog({
    write: async (rows) => void written.push(...rows),
    masks: () => {
      throw new Error('no policy');
    },
  });
  await log.record([entry()]);
  log.start();
  await stopWithin(log, 1000);
  t.equal(written[0]?.input, null);
  t.same(JSON.parse(written[0]?.masked as string), [{ op: 'remove', path: '/input' }]);
});

t.test(
  'given the database is away at shutdown, when the deadline passes, then the queue is spilled to a file that a later start writes',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const { log, metrics } = makeLog({ spillDir, write: async () => Promise.reject(connectionLost()) });
    const entries = [entry(), entry(), entry()];
    await log.record(entries);
    log.start();
    await stopWithin(log, 300);
    const files = readdirSync(spillDir);
    t.equal(files.length, 1, 'one spill file');
    const spilled = readFileSync(join(spillDir, files[0] as string), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    t.same(
      spilled.map((r) => r.decision_id),
      entries.map((e) => e.decisionId),
    );
    t.notMatch(JSON.stringify(spilled), /Secret Ltd/, 'masked before it touched the disk');
    t.equal(await value(metrics, 'clearance_decision_log_spilled_total'), 3);

    const replayed: NewDecisionLogRow[] = [];
    const next = makeLog({ spillDir, write: async (rows) => void replayed.push(...rows) });
    t.equal(await next.log.replaySpill(), 3);
    t.same(
      replayed.map((r) => r.decision_id),
      entries.map((e) => e.decisionId),
    );
    t.same(readdirSync(spillDir), [], 'the file is gone once written');
  },
);

t.test('given a spill file, when its replay fails, then the file stays for the next attempt', async (t) => {
  const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
  const first = makeLog({ spillDir, write: async () => Promise.reject(connectionLost()) });
  await first.log.record([entry()]);
  await stopWithin(first.log, 0);
  const failing = makeLog({ spillDir, write: async () => Promise.reject(connectionLost()) });
  t.equal(await failing.log.replaySpill(), 0);
  t.equal(readdirSync(spillDir).length, 1);
  t.match(readdirSync(spillDir)[0], /^decisions-.*\.jsonl$/, 'under its own name again');
});

t.test(
  'given entries of a megabyte and a half each, when written, then a write carries at most four mebibytes of them',
  async (t) => {
    const sizes: number[] = [];
    const { log } = makeLog({ write: async (rows) => void sizes.push(rows.length), masks: () => [] });
    const big = 'x'.repeat(1_500_000);
    await log.record(Array.from({ length: 5 }, () => entry({ input: { big } })));
    await log.record([entry({ input: { big: 'y'.repeat(6_000_000) } })]);
    log.start();
    await stopWithin(log, 1000);
    t.same(sizes, [2, 2, 1, 1], 'two by two, and an entry larger than the budget on its own');
  },
);

t.test(
  'given a list query, when its masks are asked for, then the policy sees it without the client rows and the masks apply to the whole entry',
  async (t) => {
    const seen: unknown[] = [];
    const written: NewDecisionLogRow[] = [];
    const { log } = makeLog({
      write: async (rows) => void written.push(...rows),
      masks: (view) => {
        seen.push(view);
        return [{ op: 'remove', path: '/input/account/name' }];
      },
    });
    const clients = [['c1', 'a1', 'xero', true, false]];
    await log.record([
      entry({
        endpoint: 'query',
        resourceId: null,
        input: { action: 'client.view', subject: { id: 'u1' }, account: { id: 'a1', name: 'Secret Ltd' }, clients },
        result: { allowed: ['c1'], denied: [] },
      }),
    ]);
    log.start();
    await stopWithin(log, 1000);
    t.same(seen, [
      {
        endpoint: 'query',
        input: { action: 'client.view', subject: { id: 'u1' }, account: { id: 'a1', name: 'Secret Ltd' } },
        result: {},
      },
    ]);
    t.same(
      JSON.parse(written[0]?.input as string),
      { action: 'client.view', subject: { id: 'u1' }, account: { id: 'a1' }, clients },
      'masked, rows kept',
    );
    t.same(JSON.parse(written[0]?.result as string), { allowed: ['c1'], denied: [] });
  },
);

t.test(
  'given a write that hangs, when the service stops, then the queue is spilled at the deadline, the write under way included',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    let writes = 0;
    const { log } = makeLog({
      spillDir,
      write: () =>
        new Promise<void>(() => {
          writes += 1;
        }),
    });
    const entries = [entry(), entry()];
    await log.record(entries);
    log.start();
    await until(() => writes === 1, 'the write to start (and hang)');
    const started = Date.now();
    await stopWithin(log, 300);
    // The deadline is 300 ms; the rest is slack for a busy machine. Without the deadline, close never returns.
    t.ok(Date.now() - started < 10_000, `close returned after ${Date.now() - started} ms`);
    const files = readdirSync(spillDir);
    t.equal(files.length, 1);
    const spilled = readFileSync(join(spillDir, files[0] as string), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).decision_id);
    t.same(
      spilled,
      entries.map((e) => e.decisionId),
    );
  },
);

t.test(
  'given a full queue and an answer waiting for room, when stopping begins, then that answer is let in past the bound and the stop goes on',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const { log, metrics } = makeLog({ spillDir, queueMax: 1000, write: async () => Promise.reject(connectionLost()) });
    await log.record(Array.from({ length: 1000 }, () => entry()));
    const waiting = log.record([entry()]).then(
      () => 'answered',
      (e: unknown) => e,
    );
    await until(
      async () => (await value(metrics, 'clearance_decision_log_backpressure_waits_total')) === 1,
      'the answer to wait for room',
    );
    log.stop(Number.POSITIVE_INFINITY);
    t.equal(await waiting, 'answered', 'answered, not refused');
    t.equal(
      await log.record([entry()]).then(
        () => 'answered',
        (e: unknown) => e,
      ),
      'answered',
      'a later answer that finds the queue full goes in at once',
    );
    t.equal(log.depth, 1002, 'both queued beyond the bound of 1000');
    log.start();
    await stopWithin(log, 100);
    const spilled = readFileSync(join(spillDir, readdirSync(spillDir)[0] as string), 'utf8')
      .trim()
      .split('\n');
    t.equal(spilled.length, 1002, 'every answered entry is spilled');
  },
);

t.test(
  'given durable mode and a commit that comes too late, then the answer is refused and its entry records the refusal',
  async (t) => {
    const { calls, write } = heldWrites();
    const refusedKeys: string[] = [];
    const { log } = makeLog({
      mode: 'durable',
      durableTimeoutMs: 100,
      write,
      markRefused: async (keys, error) => {
        t.equal(error.code, 'decision_log_unavailable');
        refusedKeys.push(...keys.map((k) => k.decision_id));
      },
    });
    log.start();
    // The first entry's write is under way when the answer times out; the second is still queued.
    const inFlight = entry();
    const queued = entry();
    const first = refusalOf(log.record([inFlight]));
    await until(() => calls.length === 1, 'the first write to start');
    const second = refusalOf(log.record([queued]));
    t.match(await first, { code: 'decision_log_unavailable' });
    t.match(await second, { code: 'decision_log_unavailable' });
    calls[0]?.done();
    await until(() => calls.length === 2, 'the second write');
    const row = calls[1]?.rows[0];
    t.equal(row?.decision_id, queued.decisionId);
    t.match(
      { allow: row?.allow, codes: row?.reason_codes, error: JSON.parse(String(row?.error)) },
      { allow: false, codes: ['decision_log_unavailable'], error: { code: 'decision_log_unavailable' } },
      'the queued entry is written as refused',
    );
    calls[1]?.done();
    await until(() => refusedKeys.length > 0, 'the correction');
    await stopWithin(log, 1000);
    t.same(refusedKeys, [inFlight.decisionId], 'the entry written as answered is corrected');
  },
);

t.test('given list queries, when they are queued, then each weighs by its clients against the bound', async (t) => {
  const { calls, write } = heldWrites();
  const { log, metrics } = makeLog({ write, queueMax: 2000 });
  const clients = Array.from({ length: 10_000 }, (_, i) => [`c${i}`, 'a1', 'xero', true, false]);
  const list = () => entry({ endpoint: 'query', input: { action: 'client.view', clients } });
  await log.record([list()]);
  let recorded = false;
  const second = log.record([list()]).then(() => (recorded = true));
  await settled();
  t.equal(recorded, false, 'a second 10,000-client list does not fit in a bound of 2000');
  t.equal(await value(metrics, 'clearance_decision_log_backpressure_waits_total'), 1);
  log.start();
  await until(() => calls.length === 1, 'the first write');
  calls[0]?.done();
  await second;
  await until(() => calls.length === 2, 'the second write');
  calls[1]?.done();
  await stopWithin(log, 1000);
});

t.test(
  'given an entry that cannot be serialized, when it is written, then it is kept without its input, saying why',
  async (t) => {
    const written: NewDecisionLogRow[] = [];
    const { log } = makeLog({ write: async (rows) => void written.push(...rows), masks: () => [] });
    await log.record([entry({ input: { big: 10n } })]);
    log.start();
    await stopWithin(log, 1000);
    t.equal(written.length, 1);
    t.equal(written[0]?.input, null);
    t.match(JSON.parse(String(written[0]?.error)), { code: 'log_entry_unstorable' });
  },
);

t.test(
  'given a spill file with a torn line and one claimed by a process that died, when replayed, then every whole entry is written and the torn line set aside',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const first = makeLog({ spillDir, write: async () => Promise.reject(connectionLost()) });
    const kept = [entry(), entry()];
    await first.log.record(kept);
    await stopWithin(first.log, 0);
    const [file] = readdirSync(spillDir);
    writeFileSync(
      join(spillDir, file as string),
      `${readFileSync(join(spillDir, file as string), 'utf8')}{"decision_id": "torn`,
    );
    // Another spill, claimed by a pid that no longer runs.
    const other = makeLog({ spillDir, write: async () => Promise.reject(connectionLost()) });
    const orphaned = entry();
    // Spill files are named by the millisecond: this one must not take the first one's name.
    const firstSpilledAt = Date.now();
    await until(() => Date.now() > firstSpilledAt, 'the clock to move on');
    await other.log.record([orphaned]);
    await stopWithin(other.log, 0);
    const second = readdirSync(spillDir).find((name) => name !== file) as string;
    renameSync(join(spillDir, second), join(spillDir, `${second}.replaying-999999`));

    const replayed: NewDecisionLogRow[] = [];
    const next = makeLog({ spillDir, write: async (rows) => void replayed.push(...rows) });
    t.equal(await next.log.replaySpill(), 3);
    t.same(replayed.map((r) => r.decision_id).sort(), [...kept, orphaned].map((e) => e.decisionId).sort());
    t.same(readdirSync(spillDir), [`${file}.bad`], 'only the torn line is left, set aside');
  },
);

t.test(
  'given durable mode and a lone entry whose write outlasts its answer, then it is corrected once the write ends',
  async (t) => {
    const { calls, write } = heldWrites();
    const corrected: string[] = [];
    const { log } = makeLog({
      mode: 'durable',
      durableTimeoutMs: 50,
      write,
      markRefused: async (keys) => void corrected.push(...keys.map((k) => k.decision_id)),
    });
    log.start();
    const lone = entry();
    t.match(await refusalOf(log.record([lone])), { code: 'decision_log_unavailable' });
    calls[0]?.done();
    await until(() => corrected.length > 0, 'the correction');
    t.same(corrected, [lone.decisionId], 'corrected without waiting for another entry');
    await stopWithin(log, 1000);
  },
);

t.test(
  'given a spill being written, when a replay looks at the folder meanwhile, then it sees no spill file until the file is whole',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    // What a replay in another process would claim at that moment: every *.jsonl file, read whole.
    const torn: string[] = [];
    const look = () => {
      for (const name of readdirSync(spillDir).filter((n) => n.endsWith('.jsonl'))) {
        const text = readFileSync(join(spillDir, name), 'utf8');
        const whole =
          text.endsWith('\n') &&
          text
            .trim()
            .split('\n')
            .every((line) => {
              try {
                JSON.parse(line);
                return true;
              } catch {
                return false;
              }
            });
        if (!whole) torn.push(name);
      }
    };
    // Every write of spill text is cut in two, with a look at the folder in between.
    const writeInHalves = (target: fs.PathOrFileDescriptor, data: unknown, options?: fs.WriteFileOptions) => {
      if (typeof data !== 'string' || !data.includes('decision_id'))
        return fs.writeFileSync(target, data as string, options);
      const middle = Math.floor(data.length / 2);
      fs.writeFileSync(target, data.slice(0, middle), options);
      look();
      if (typeof target === 'number') fs.writeFileSync(target, data.slice(middle));
      else fs.appendFileSync(target, data.slice(middle));
    };
    const { DecisionLog: Spilling } = await t.mockImport<typeof import('../../service/domain/decision-log/index.ts')>(
      '../../service/domain/decision-log/index.ts',
      {
        'node:fs': { ...fs, writeFileSync: writeInHalves },
      },
    );
    const log = new Spilling({
      mode: 'buffered',
      queueMax: 10_000,
      masks: () => [],
      markRefused: async () => undefined,
      metrics: new Metrics({ processMetrics: false }),
      log: quiet,
      spillDir,
      write: async () => Promise.reject(connectionLost()),
    });
    const entries = [entry(), entry(), entry()];
    await log.record(entries);
    await stopWithin(log, 0);
    t.same(torn, [], 'no half-written spill file was ever in view');
    const files = readdirSync(spillDir);
    t.equal(files.length, 1, 'one file, under its final name');
    t.match(files[0], /^decisions-.*\.jsonl$/);
    t.same(
      readFileSync(join(spillDir, files[0] as string), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).decision_id),
      entries.map((e) => e.decisionId),
    );
  },
);

t.test(
  'given a spill file left half-written by a process that died, when replayed, then its whole lines are written and the torn end set aside',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const kept = [entry(), entry()];
    const first = makeLog({ spillDir, write: async () => Promise.reject(connectionLost()) });
    await first.log.record(kept);
    await stopWithin(first.log, 0);
    const [file] = readdirSync(spillDir) as [string];
    // The same file as it would be while pid 999999 was still writing it, and after it died.
    renameSync(join(spillDir, file), join(spillDir, `${file}.writing-999999`));
    writeFileSync(
      join(spillDir, `${file}.writing-999999`),
      `${readFileSync(join(spillDir, `${file}.writing-999999`), 'utf8')}{"decision_id": "to`,
    );
    // One still being written by a live process (this one) is not touched.
    writeFileSync(join(spillDir, `decisions-1-${process.pid}.jsonl.writing-${process.pid}`), '{"decision_id": "half');

    const replayed: NewDecisionLogRow[] = [];
    const next = makeLog({ spillDir, write: async (rows) => void replayed.push(...rows) });
    t.equal(await next.log.replaySpill(), 2);
    t.same(
      replayed.map((r) => r.decision_id),
      kept.map((e) => e.decisionId),
    );
    t.same(
      readdirSync(spillDir).sort(),
      [`${file}.bad`, `decisions-1-${process.pid}.jsonl.writing-${process.pid}`].sort(),
    );
  },
);

t.test(
  'given a spill file with an entry the database refuses, when replayed, then the others are stored, it is kept without its input, and the file is done',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const good = [entry(), entry()];
    const bad = entry({ input: { note: 'poison' } });
    const first = makeLog({ spillDir, masks: () => [], write: async () => Promise.reject(connectionLost()) });
    await first.log.record([good[0] as DecisionLogEntry, bad, good[1] as DecisionLogEntry]);
    await stopWithin(first.log, 0);

    const written: NewDecisionLogRow[] = [];
    const next = makeLog({
      spillDir,
      write: async (rows) => {
        if (rows.some((r) => r.input !== null && String(r.input).includes('poison')))
          throw Object.assign(new Error('value too long'), { code: '22001' });
        written.push(...rows);
      },
    });
    t.equal(await next.log.replaySpill(), 3);
    t.same(
      written.map((r) => r.decision_id).sort(),
      [bad.decisionId, ...good.map((e) => e.decisionId)].sort(),
      'all three stored',
    );
    const kept = written.find((r) => r.decision_id === bad.decisionId);
    t.equal(kept?.input, null);
    t.same(JSON.parse(String(kept?.masked)), [{ op: 'remove', path: '/input' }]);
    t.match(JSON.parse(String(kept?.error)), { code: 'log_entry_unstorable', message: 'value too long' });
    t.same(readdirSync(spillDir), [], 'the file is done, not retried forever');
  },
);

t.test(
  'given a failing database, when more answers arrive during the retry pause, then waiting_on_database counts them too',
  async (t) => {
    let failing = true;
    const { log, metrics } = makeLog({
      write: async () => {
        if (failing) throw connectionLost();
      },
    });
    log.start();
    await log.record([entry(), entry()]);
    await until(
      async () => (await value(metrics, 'clearance_decision_log_write_errors_total')) === 1,
      'the first write to fail',
    );
    t.equal(await value(metrics, 'clearance_decision_log_waiting_on_database'), 2, 'held after the failed write');
    // The writer now waits before it tries again; these arrive meanwhile.
    await log.record([entry(), entry(), entry()]);
    t.equal(
      await value(metrics, 'clearance_decision_log_waiting_on_database'),
      5,
      'every entry held while the database fails',
    );
    t.equal(await value(metrics, 'clearance_decision_log_queue_depth'), 5);
    failing = false;
    await stopWithin(log, 2000);
    t.equal(await value(metrics, 'clearance_decision_log_waiting_on_database'), 0, 'none once written');
  },
);

t.test(
  'given durable mode and a batch written in two parts, when its answer times out, then every entry of it is corrected, the part already written included',
  async (t) => {
    const { calls, write } = heldWrites();
    const corrected: string[] = [];
    const { log } = makeLog({
      mode: 'durable',
      durableTimeoutMs: 100,
      batchMax: 2,
      write,
      markRefused: async (keys) => void corrected.push(...keys.map((k) => k.decision_id)),
    });
    log.start();
    const batch = [entry(), entry(), entry()];
    const answer = refusalOf(log.record(batch));
    await until(() => calls.length === 1, 'the first write');
    t.equal(calls[0]?.rows.length, 2, 'the first two go in the first write');
    calls[0]?.done();
    await until(() => calls.length === 2, 'the second write');
    t.equal(calls[1]?.rows.length, 1, 'the third is being written');
    t.match(await answer, { code: 'decision_log_unavailable' }, 'the answer timed out');
    calls[1]?.done();
    await until(() => corrected.length === 3, 'the corrections');
    t.same(corrected.sort(), batch.map((e) => e.decisionId).sort(), 'the log says refused for all three');
    await stopWithin(log, 1000);
  },
);

t.test(
  'given durable mode and corrections the database cannot take, when the service stops, then they are spilled and applied at the next start',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const { calls, write } = heldWrites();
    const { log } = makeLog({
      mode: 'durable',
      durableTimeoutMs: 50,
      spillDir,
      write,
      markRefused: async () => Promise.reject(connectionLost()),
    });
    log.start();
    const lone = entry();
    t.match(await refusalOf(log.record([lone])), { code: 'decision_log_unavailable' });
    calls[0]?.done();
    await until(() => log.depth === 0, 'the write to end');
    await stopWithin(log, 100);
    const files = readdirSync(spillDir);
    t.equal(files.length, 1, 'the correction is spilled');
    const [row] = readFileSync(join(spillDir, files[0] as string), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    t.match(
      row,
      { decision_id: lone.decisionId, allow: false, reason_codes: ['decision_log_unavailable'] },
      'as the refused entry',
    );

    const written: NewDecisionLogRow[] = [];
    const corrected: string[] = [];
    const next = makeLog({
      spillDir,
      write: async (rows) => void written.push(...rows),
      markRefused: async (keys) => void corrected.push(...keys.map((k) => k.decision_id)),
    });
    t.equal(await next.log.replaySpill(), 1);
    t.same(
      written.map((r) => r.decision_id),
      [lone.decisionId],
      'inserted if it were missing',
    );
    t.same(corrected, [lone.decisionId], 'and corrected where it went in as answered');
  },
);

t.test(
  'given stopping has begun and close() does not come (a request hangs), when the deadline passes, then what is queued and being written is spilled',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const { calls, write } = heldWrites();
    const { log } = makeLog({ spillDir, write });
    log.start();
    const entries = [entry(), entry()];
    await log.record([entries[0] as DecisionLogEntry]);
    await until(() => calls.length === 1, 'a write under way, hanging');
    await log.record([entries[1] as DecisionLogEntry]);
    log.stop(Date.now() + 100);
    await until(() => readdirSync(spillDir).length > 0, 'the spill at the deadline');
    const files = readdirSync(spillDir);
    t.equal(files.length, 1, 'spilled at the deadline, without close()');
    t.same(
      readFileSync(join(spillDir, files[0] as string), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).decision_id),
      entries.map((e) => e.decisionId),
    );
    t.equal(log.depth, 0);
    for (const call of calls) call.done();
    await stopWithin(log, 1000);
  },
);

t.test(
  'given a write under way, when spillNow is called (the process is exiting), then the queue is spilled at once, masked, the write under way included',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const { calls, write } = heldWrites();
    const { log, metrics } = makeLog({ spillDir, write });
    log.start();
    const entries = [entry(), entry(), entry()];
    await log.record(entries.slice(0, 1));
    await until(() => calls.length === 1, 'a write under way');
    await log.record(entries.slice(1));
    log.spillNow();
    const files = readdirSync(spillDir);
    t.equal(files.length, 1, 'synchronously');
    const text = readFileSync(join(spillDir, files[0] as string), 'utf8');
    t.same(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).decision_id),
      entries.map((e) => e.decisionId),
    );
    t.notMatch(text, /Secret Ltd/, 'masked');
    t.equal(await value(metrics, 'clearance_decision_log_spilled_total'), 3);
    log.spillNow();
    t.equal(readdirSync(spillDir).length, 1, 'nothing left to spill a second time');
  },
);

t.test(
  'given durable mode and an entry spilled at the deadline, when its answer then times out, then the spill at close says refused and the replay corrects it',
  async (t) => {
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));
    const { write } = heldWrites();
    const { log } = makeLog({ mode: 'durable', durableTimeoutMs: 200, spillDir, write });
    log.start();
    const waiting = entry();
    const answer = refusalOf(log.record([waiting]));
    log.stop(Date.now() + 50);
    await until(() => readdirSync(spillDir).length > 0, 'the spill at the deadline');
    t.equal(readdirSync(spillDir).length, 1, 'spilled at the deadline, as answered');
    t.match(await answer, { code: 'decision_log_unavailable' }, 'then the answer is refused');
    await stopWithin(log, 0);
    const rows = readdirSync(spillDir).flatMap((f) =>
      readFileSync(join(spillDir, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    t.ok(
      rows.some(
        (r) =>
          r.decision_id === waiting.decisionId && r.allow === false && r.reason_codes[0] === 'decision_log_unavailable',
      ),
      'the refusal is spilled too',
    );
    const corrected: string[] = [];
    const next = makeLog({
      spillDir,
      write: async () => undefined,
      markRefused: async (keys) => void corrected.push(...keys.map((k) => k.decision_id)),
    });
    await next.log.replaySpill();
    t.same(corrected, [waiting.decisionId], 'marked refused, whichever file went in first');
  },
);
