// The decision log's recurring maintenance in the running service (hourly in production; here every
// 100 ms, on a clock the test moves): it writes spill files that appear while it runs, makes the
// partitions of the days ahead, and drops partitions older than DECISION_LOG_RETENTION_DAYS.
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../service/config.ts';
import { listDecisionLogPartitions } from '../../service/data/decision-log.ts';
import { DecisionLog } from '../../service/domain/decision-log/index.ts';
import { Metrics } from '../../service/domain/metrics.ts';
import { buildTestApp } from '../helpers/app.ts';
import { TEST_ENGINE } from '../helpers/database.ts';
import { connectionLost, DAY_MS, logEntry, partitionOf, stopWithin } from '../helpers/decision-log.ts';
import { until } from '../helpers/wait.ts';

t.test(
  `given the service on ${TEST_ENGINE} with DECISION_LOG_RETENTION_DAYS=5 and its maintenance every 100 ms on a clock the test moves`,
  async (t) => {
    const started = new Date();
    let now = started;
    const dataDir = mkdtempSync(join(tmpdir(), 'clearance-test-'));
    // The retention as the service reads it from its environment.
    const { decisionLog } = loadConfig({ DECISION_LOG_RETENTION_DAYS: '5' });
    const { app, database } = await buildTestApp(
      t,
      { dataDir, decisionLog },
      { decisionLogMaintenance: { everyMs: 100, now: () => now } },
    );
    const partitions = async () => (await listDecisionLogPartitions(database.db)).map((p) => p.name);
    const logged = async () =>
      (await database.db.selectFrom('decision_log').select('decision_id').execute()).map((r) => r.decision_id);
    await until(
      async () => (await partitions()).includes(partitionOf(new Date(started.getTime() + 3 * DAY_MS))),
      'the start-up maintenance: partitions up to three days ahead',
    );

    t.test(
      'when a spill file appears while it runs (another process stopped during an outage), then the next maintenance writes it and removes it',
      async (t) => {
        const spillDir = join(dataDir, 'decision-log-spill');
        mkdirSync(spillDir, { recursive: true });
        const stopped = new DecisionLog({
          mode: 'buffered',
          queueMax: 100,
          masks: () => [],
          write: async () => Promise.reject(connectionLost()),
          markRefused: async () => Promise.reject(connectionLost()),
          metrics: new Metrics({ processMetrics: false }),
          log: { info: () => undefined, warn: () => undefined, error: () => undefined },
          spillDir,
        });
        const spilled = [logEntry(), logEntry()];
        await stopped.record(spilled);
        await stopWithin(stopped, 0);
        t.equal(readdirSync(spillDir).length, 1, 'spilled');
        await until(async () => readdirSync(spillDir).length === 0, 'the spill file to be replayed');
        t.same((await logged()).sort(), spilled.map((e) => e.decisionId).sort(), 'its entries are in the table');
      },
    );

    t.test(
      'when the clock passes the days made ahead, then the next maintenance makes the partitions of the new days',
      async (t) => {
        now = new Date(started.getTime() + 4 * DAY_MS);
        const ahead = partitionOf(new Date(now.getTime() + 3 * DAY_MS));
        t.notOk((await partitions()).includes(ahead), `${ahead} is not made yet`);
        await until(async () => (await partitions()).includes(ahead), `${ahead}`);
        t.ok((await partitions()).includes(partitionOf(started)), 'the first day is still within 5 days: kept');
      },
    );

    t.test(
      'when the clock passes the retention of 5 days, then older partitions are dropped whole, with their entries',
      async (t) => {
        now = new Date(started.getTime() + 7 * DAY_MS);
        await until(async () => !(await partitions()).includes(partitionOf(started)), 'the first day to be dropped');
        t.same(await logged(), [], 'the entries of that day are gone');
        const kept = await partitions();
        t.ok(kept.includes(partitionOf(new Date(now.getTime() - 5 * DAY_MS))), 'the day five days back is kept');
        t.ok(kept.includes(partitionOf(new Date(now.getTime() + 3 * DAY_MS))), 'and three days ahead are made');
        t.notOk(kept.includes(partitionOf(new Date(now.getTime() - 6 * DAY_MS))), 'six days back is gone');
        t.equal(app.decisionLog.depth, 0);
      },
    );
  },
);
