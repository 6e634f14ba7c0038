// The decision log writer's linger (buffered mode): a batch short of full gathers for a moment
// before it is written, so entries answered close together share a write; the stop does not wait
// for it; and a database that fails is retried as before.
import t from 'tap';
import type { NewDecisionLogRow } from '../../service/data/schema.ts';
import { DecisionLog, type DecisionLogOptions } from '../../service/domain/decision-log/index.ts';
import { Metrics } from '../../service/domain/metrics.ts';
import type { LogMask } from '../../service/policy/answers.ts';
import { logEntry as entry } from '../helpers/decision-log.ts';
import { until } from '../helpers/wait.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function makeLog(options: Partial<DecisionLogOptions> & Pick<DecisionLogOptions, 'write'>) {
  return new DecisionLog({
    mode: 'buffered',
    queueMax: 10_000,
    masks: (): LogMask[] => [],
    markRefused: async () => undefined,
    metrics: new Metrics({ processMetrics: false }),
    log: quiet,
    spillDir: null,
    ...options,
  });
}

/** Records count entries one at a time, a turn of the event loop apart. */
async function trickle(log: DecisionLog, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await log.record([entry()]);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

t.test('given a linger, when entries arrive one by one, then they share a write', async (t) => {
  const writes: NewDecisionLogRow[][] = [];
  const log = makeLog({ lingerMs: 200, write: async (rows) => void writes.push(rows) });
  log.start();
  await trickle(log, 20);
  await until(() => writes.flat().length === 20, 'the 20 entries written');
  t.equal(writes.length, 1, `one write for 20 entries (got ${writes.map((w) => w.length).join(', ')})`);
  await log.close();
});

t.test('given no linger, when entries arrive one by one, then the first is written at once', async (t) => {
  const writes: NewDecisionLogRow[][] = [];
  const log = makeLog({ write: async (rows) => void writes.push(rows) });
  log.start();
  await trickle(log, 20);
  await until(() => writes.flat().length === 20, 'the 20 entries written');
  t.equal(writes[0]?.length, 1, 'the first write holds the first entry alone');
  await log.close();
});

t.test(
  'given a long linger, when the log is closed, then what is queued is written without waiting for it',
  async (t) => {
    const writes: NewDecisionLogRow[][] = [];
    const log = makeLog({ lingerMs: 60_000, write: async (rows) => void writes.push(rows) });
    log.start();
    await log.record([entry(), entry()]);
    const started = Date.now();
    log.stop(Date.now() + 5000);
    await log.close();
    t.equal(writes.flat().length, 2, 'both written');
    t.ok(Date.now() - started < 2000, 'well before the linger would have ended');
  },
);

t.test('given a linger, when the database fails, then the batch is retried until it is written', async (t) => {
  let failures = 2;
  const writes: NewDecisionLogRow[][] = [];
  const log = makeLog({
    lingerMs: 20,
    write: async (rows) => {
      if (failures-- > 0) throw Object.assign(new Error('connection lost'), { code: 'ECONNLOST' });
      writes.push(rows);
    },
  });
  log.start();
  await log.record([entry(), entry(), entry()]);
  await until(() => writes.flat().length === 3, 'the entries written after two failures', 10_000);
  t.equal(log.depth, 0);
  await log.close();
});
