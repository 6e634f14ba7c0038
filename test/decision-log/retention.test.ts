// Daily partitions are made ahead of time and retention drops whole partitions; rows that fell
// into the default partition are purged by age too.
import { sql } from 'kysely';
import t from 'tap';
import {
  insertDecisionLogRows,
  listDecisionLogPartitions,
  maintainDecisionLogPartitions,
} from '../../service/data/decision-log.ts';
import { migratedDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { logRow } from '../helpers/decision-log.ts';

const row = (decidedAt: string) =>
  logRow({
    decided_at: decidedAt,
    resource_id: 'c1',
    reason_codes: ['top_admin'],
    input: '{}',
    result: '{"allow":true,"reasons":[]}',
    policy_revision: 'r',
  });

t.test(`given a migrated ${TEST_ENGINE} database`, async (t) => {
  const { db } = await migratedDatabase(t);
  const names = async () => (await listDecisionLogPartitions(db)).map((p) => p.name);
  const where = async () =>
    Object.fromEntries(
      (
        await sql<{
          decided_at: Date;
          part: string;
        }>`select decided_at, tableoid::regclass::text as part from decision_log`.execute(db)
      ).rows.map((r) => [new Date(r.decided_at).toISOString(), r.part]),
    );

  t.test('when maintenance runs, then it makes a partition for yesterday, today and three days ahead', async (t) => {
    const changes = await maintainDecisionLogPartitions(db, {
      now: new Date('2026-06-15T12:00:00Z'),
      daysAhead: 3,
      retentionDays: 30,
    });
    const expected = [
      'decision_log_p20260614',
      'decision_log_p20260615',
      'decision_log_p20260616',
      'decision_log_p20260617',
      'decision_log_p20260618',
    ];
    t.same(changes.created, expected);
    t.same(await names(), expected);
    const again = await maintainDecisionLogPartitions(db, {
      now: new Date('2026-06-15T13:00:00Z'),
      daysAhead: 3,
      retentionDays: 30,
    });
    t.same(again, { created: [], dropped: [], blocked: [], purged: 0 }, 'a second run changes nothing');
  });

  t.test(
    "when rows are written, then each lands in its day's partition, or the default one when there is none",
    async (t) => {
      await insertDecisionLogRows(db, [
        row('2026-06-15T12:00:00Z'),
        row('2026-05-06T12:00:00Z'),
        row('2026-06-25T12:00:00Z'),
        row('2026-07-31T08:00:00Z'),
      ]);
      const parts = await where();
      t.match(parts['2026-06-15T12:00:00.000Z'], /decision_log_p20260615$/);
      t.match(parts['2026-05-06T12:00:00.000Z'], /decision_log_default$/);
      t.match(parts['2026-06-25T12:00:00.000Z'], /decision_log_default$/);
    },
  );

  t.test(
    'when 45 days have passed, then old partitions are dropped whole, old default rows purged, and a day already in the default partition is reported',
    async (t) => {
      const changes = await maintainDecisionLogPartitions(db, {
        now: new Date('2026-07-30T12:00:00Z'),
        daysAhead: 3,
        retentionDays: 30,
      });
      t.same(changes.dropped, [
        'decision_log_p20260614',
        'decision_log_p20260615',
        'decision_log_p20260616',
        'decision_log_p20260617',
        'decision_log_p20260618',
      ]);
      t.same(changes.created, [
        'decision_log_p20260729',
        'decision_log_p20260730',
        'decision_log_p20260801',
        'decision_log_p20260802',
      ]);
      t.same(changes.blocked, ['decision_log_p20260731'], 'its rows sit in the default partition');
      t.equal(changes.purged, 2, 'the May and June rows of the default partition');
      t.same(Object.keys(await where()), ['2026-07-31T08:00:00.000Z'], 'only the recent row is left');
    },
  );
});
