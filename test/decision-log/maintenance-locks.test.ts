// Partition maintenance never queues ahead of the log's writers: creating or dropping a partition
// takes decision_log's exclusive lock, which waits behind a long reader (an export streaming to a
// slow client); while it waited, every insert and read would wait behind it. It gives up instead,
// and the writers go on; the next round makes the partition.
import { sql } from 'kysely';
import t from 'tap';
import { insertDecisionLogRows, maintainDecisionLogPartitions } from '../../service/data/decision-log.ts';
import { migratedDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { DAY_MS, logRow } from '../helpers/decision-log.ts';

t.test('when a long read holds the log, then maintenance gives up and writes go on', async (t) => {
  if (TEST_ENGINE !== 'postgres') {
    t.pass('the embedded engine has one connection: no read holds the log while another statement runs');
    return;
  }
  const database = await migratedDatabase(t);
  const db = database.db;
  const now = new Date();
  await maintainDecisionLogPartitions(db, { now, daysAhead: 1, retentionDays: 30 });
  await insertDecisionLogRows(db, [logRow({ decided_at: now })]);
  // An export's read: a transaction with a cursor open over the log, its client slow.
  const reader = await db.startTransaction().setAccessMode('read only').execute();
  t.teardown(() =>
    reader
      .rollback()
      .execute()
      .catch(() => undefined),
  );
  await sql`declare slow_export no scroll cursor for select * from decision_log`.execute(reader);
  await sql`fetch forward 1 from slow_export`.execute(reader);

  // Maintenance a day later must make a partition: it needs the lock the reader is in the way of.
  const started = Date.now();
  const maintaining = maintainDecisionLogPartitions(db, {
    now: new Date(now.getTime() + 3 * DAY_MS),
    daysAhead: 1,
    retentionDays: 30,
  }).then(
    () => 'done',
    (error: Error) => error.message,
  );
  // Meanwhile a writer and a reader of the log are not held up behind it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const written = Date.now();
  await insertDecisionLogRows(db, [logRow({ decided_at: now })]);
  const { count } = await db
    .selectFrom('decision_log')
    .select(db.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  t.equal(Number(count), 2, 'the log is written and read meanwhile');
  t.ok(
    Date.now() - written < 5000,
    `held up only until maintenance gave up, about a second (${Date.now() - written} ms)`,
  );
  const outcome = await maintaining;
  t.match(outcome, /lock timeout/, 'maintenance gave up for the lock');
  t.ok(Date.now() - started < 5000, `within seconds (${Date.now() - started} ms)`);

  await reader.rollback().execute();
  const changes = await maintainDecisionLogPartitions(db, {
    now: new Date(now.getTime() + 3 * DAY_MS),
    daysAhead: 1,
    retentionDays: 30,
  });
  t.ok(changes.created.length > 0, `the next round makes the partitions (${changes.created.join(', ')})`);
});
