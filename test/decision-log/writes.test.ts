// The decision log queue writing to the engine under test, where test/engine-free/queue.test.ts
// has stand-ins: a row the database itself refuses, and spill files replayed into the table.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import type { DatabaseHandle } from '../../service/data/connect.ts';
import { insertDecisionLogRows, markDecisionLogRowsRefused } from '../../service/data/decision-log.ts';
import type { NewDecisionLogRow } from '../../service/data/schema.ts';
import { DecisionLog, type DecisionLogOptions } from '../../service/domain/decision-log/index.ts';
import { Metrics } from '../../service/domain/metrics.ts';
import { eventually } from '../helpers/app.ts';
import { migratedDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { connectionLost, logEntry, stopWithin } from '../helpers/decision-log.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A queue as the service wires it, writing to the database the test gives (the service's own masks aside). */
function queueOn(database: DatabaseHandle, options: Partial<DecisionLogOptions> = {}): DecisionLog {
  return new DecisionLog({
    mode: 'buffered',
    queueMax: 10_000,
    masks: () => [{ op: 'remove', path: '/input/account/name' }],
    write: (rows) => insertDecisionLogRows(database.longDb, rows),
    markRefused: (keys, error) => markDecisionLogRowsRefused(database.longDb, keys, error),
    metrics: new Metrics({ processMetrics: false }),
    log: quiet,
    spillDir: null,
    ...options,
  });
}

/** A queue whose database is away: every write and correction fails as a lost connection does. */
const queueWithoutDatabase = (options: Partial<DecisionLogOptions>) =>
  new DecisionLog({
    mode: 'buffered',
    queueMax: 10_000,
    masks: () => [{ op: 'remove', path: '/input/account/name' }],
    write: async () => Promise.reject(connectionLost()),
    markRefused: async () => Promise.reject(connectionLost()),
    metrics: new Metrics({ processMetrics: false }),
    log: quiet,
    spillDir: null,
    ...options,
  });

const stored = async (database: DatabaseHandle) =>
  (
    await sql<{
      decision_id: string;
      allow: boolean | null;
      reason_codes: string[];
      input: unknown;
      error: { code: string; message: string } | null;
      masked: unknown;
    }>`
      select decision_id::text, allow, reason_codes, input, error, masked from decision_log order by decision_id`.execute(
      database.db,
    )
  ).rows;

t.test(`given the decision log table on ${TEST_ENGINE} refusing rows whose input says "refuse me"`, async (t) => {
  const database = await migratedDatabase(t);
  // The database's own refusal (a check constraint, SQLSTATE 23514) reaching the queue through the
  // engine's real driver: a made-up error code cannot show that it is recognised as a refused row.
  await sql`alter table decision_log add constraint refuses_flagged_input check (input is null or input::text not like '%refuse me%')`.execute(
    database.db,
  );

  t.test(
    'when a batch holding such a row is written, then the others are stored with their input and it is kept without its, saying why',
    async (t) => {
      const log = queueOn(database);
      const [before, refused, after] = [logEntry(), logEntry({ input: { note: 'refuse me' } }), logEntry()] as const;
      const good = [before, after];
      await log.record([before, refused, after]);
      log.start();
      await stopWithin(log, 10_000);
      const rows = await stored(database);
      t.same(
        rows.map((r) => r.decision_id).sort(),
        [...good, refused].map((e) => e.decisionId).sort(),
        'all three stored, each once',
      );
      for (const entry of good) {
        t.same(
          rows.find((r) => r.decision_id === entry.decisionId)?.input,
          { subject: { id: 'u1' }, account: { id: 'a1' } },
          'stored with its input, masked',
        );
      }
      const kept = rows.find((r) => r.decision_id === refused.decisionId);
      t.equal(kept?.input, null, 'the refused one without its input');
      t.equal(kept?.allow, true, 'its verdict kept');
      t.same(kept?.masked, [{ op: 'remove', path: '/input' }]);
      t.equal(kept?.error?.code, 'log_entry_unstorable');
      t.match(kept?.error?.message, /refuses_flagged_input/, 'saying what the database said');
    },
  );
});

t.test(
  `given spill files left by stops during an outage, when replayed into ${TEST_ENGINE}, then every entry is in the table once, masked, a refusal corrected, and the files are gone`,
  async (t) => {
    const database = await migratedDatabase(t);
    const spillDir = mkdtempSync(join(tmpdir(), 'clearance-spill-'));

    // A buffered stop: two answers the database never took.
    const buffered = queueWithoutDatabase({ spillDir });
    const answered = [
      logEntry(),
      logEntry({
        subjectId: "o'brien",
        input: { subject: { id: "o'brien" }, account: { id: 'a1', name: 'Secret Ltd' }, note: 'ü ✓ "quoted"' },
      }),
    ];
    await buffered.record(answered);
    await stopWithin(buffered, 0);

    // A durable stop: an answer whose write committed, then refused for being too late; the
    // correction could not be made before the stop.
    const writes: Array<{ rows: NewDecisionLogRow[]; done: () => void }> = [];
    const durable = queueWithoutDatabase({
      mode: 'durable',
      durableTimeoutMs: 50,
      spillDir,
      write: (rows) => new Promise<void>((resolve) => writes.push({ rows, done: resolve })),
    });
    durable.start();
    const late = logEntry();
    t.match(
      await durable.record([late]).then(
        () => null,
        (e: unknown) => e,
      ),
      { code: 'decision_log_unavailable' },
      'the late answer was refused',
    );
    t.ok(await eventually(async () => writes.length === 1), 'its write was under way');
    // That write did commit, as answered:
    await insertDecisionLogRows(database.longDb, writes[0]?.rows ?? []);
    writes[0]?.done();
    await stopWithin(durable, 100);

    // One of the buffered answers had reached the table too before the stop (written and spilled).
    const [first] = readdirSync(spillDir);
    const spilledFirst = JSON.parse(
      readFileSync(join(spillDir, first as string), 'utf8').split('\n')[0] as string,
    ) as NewDecisionLogRow;
    await insertDecisionLogRows(database.longDb, [spilledFirst]);
    t.equal(readdirSync(spillDir).length, 2, 'two spill files');

    const replaying = queueOn(database, { spillDir });
    t.equal(await replaying.replaySpill(), 3, 'three entries replayed');
    t.same(readdirSync(spillDir), [], 'the files are gone once written');

    const rows = await stored(database);
    t.same(
      rows.map((r) => r.decision_id).sort(),
      [...answered, late].map((e) => e.decisionId).sort(),
      'each entry once',
    );
    t.same(
      rows.find((r) => r.decision_id === answered[1]?.decisionId)?.input,
      { subject: { id: "o'brien" }, account: { id: 'a1' }, note: 'ü ✓ "quoted"' },
      'stored as spilled: masked, text intact',
    );
    t.match(
      rows.find((r) => r.decision_id === late.decisionId),
      { allow: false, reason_codes: ['decision_log_unavailable'], error: { code: 'decision_log_unavailable' } },
      'the late answer says refused, though it was written as answered',
    );
    t.notMatch(JSON.stringify(rows), /Secret Ltd/, 'nothing the masks removed');
    t.equal(await replaying.replaySpill(), 0, 'a second replay finds nothing');
  },
);
