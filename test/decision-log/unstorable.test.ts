// Entries carrying what PostgreSQL cannot store (NUL) in a caller's attributes are stored with their input, the characters made visible and the entry saying where,
// with no write refused and no batch redone; and a row the database still refuses costs that row,
// not its batch.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { insertDecisionLogRows } from '../../service/data/decision-log.ts';
import type { NewDecisionLogRow } from '../../service/data/schema.ts';
import { DecisionLog, type DecisionLogEntry } from '../../service/domain/decision-log/index.ts';
import { Metrics } from '../../service/domain/metrics.ts';
import { buildTestApp, logWritten } from '../helpers/app.ts';
import { migratedDatabase } from '../helpers/database.ts';
import { makeToken, seedFixtures } from '../helpers/fixtures.ts';
import { stopWithin } from '../helpers/decision-log.ts';

const counter = async (metrics: Metrics, name: string) =>
  (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;

t.test('given the fixture data set and a token with the decide and logs scopes', async (t) => {
  const { app, database } = await buildTestApp(t);
  await seedFixtures(database.db);
  const token = await makeToken(database.db, ['decide', 'logs']);
  const headers = { authorization: `Bearer ${token}` };
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers, payload });
  const entry = async (id: string) => (await app.inject({ method: 'GET', url: `/v1/decisions/${id}`, headers })).json();
  const clientView = (attributes: object) => ({
    subject: { id: 'pa' },
    action: 'client.view',
    resource: { type: 'client', id: 'c_xero', attributes },
  });
  const userUpdate = (role: string) => ({
    subject: { id: 'pa' },
    action: 'user.update',
    resource: { type: 'user', id: 'std_sel', attributes: { role } },
  });

  t.test(
    'when attributes carry NUL in a key the log removes and in a value it keeps, then each entry is stored with its input, saying where it was escaped',
    async (t) => {
      const removedKey = (await post('/v1/decide', clientView({ 'k\u0000ey': 'v' }))).json();
      const keptValue = (await post('/v1/decide', userUpdate('std\u0000'))).json();
      await logWritten(app);
      const aboutAttributes = (masked: Array<{ op: string; path: string }>) =>
        masked.filter((m) => m.path.startsWith('/input/resource/'));

      const first = await entry(removedKey.decision_id);
      t.ok(first.input !== null, 'input kept');
      t.equal(first.error, null);
      t.same(first.input.resource.attributes, {}, 'the key the log policy removes is gone');
      t.same(aboutAttributes(first.masked), [
        { op: 'remove', path: '/input/resource/attributes/k\\u0000ey' },
        { op: 'escape', path: '/input/resource/attributes/k\\u0000ey' },
      ]);

      const second = await entry(keptValue.decision_id);
      t.equal(second.input.resource.attributes.role, 'std\\u0000', 'the NUL as visible text');
      t.same(aboutAttributes(second.masked), [{ op: 'escape', path: '/input/resource/attributes/role' }]);
      t.equal(second.error, null);
    },
  );

  t.test(
    'when one in twenty of a batch is poisoned, then every entry is written in one go with its input',
    async (t) => {
      const isolated = await counter(app.metrics, 'clearance_decision_log_isolation_writes_total');
      const written = await counter(app.metrics, 'clearance_decision_log_entries_written_total');
      const requests = Array.from({ length: 100 }, (_, i) =>
        i % 20 === 0 ? clientView({ [`bad\u0000${i}`]: 1 }) : clientView({}),
      );
      const results = (await post('/v1/decide/batch', { requests })).json().results as Array<{ decision_id: string }>;
      await logWritten(app);
      const rows = await database.db
        .selectFrom('decision_log')
        .select(['decision_id', 'input', 'masked', 'error'])
        .where(
          'decision_id',
          'in',
          results.map((r) => r.decision_id),
        )
        .execute();
      t.equal(rows.length, 100, 'all stored');
      t.ok(
        rows.every((row) => row.input !== null && row.error === null),
        'each with its input, none refused',
      );
      t.equal(
        rows.filter((row) => row.masked.some((m) => m.op === 'escape')).length,
        5,
        'the five poisoned ones say so',
      );
      t.equal(
        await counter(app.metrics, 'clearance_decision_log_isolation_writes_total'),
        isolated,
        'no write was redone to set a row apart',
      );
      t.equal(await counter(app.metrics, 'clearance_decision_log_unstorable_total'), 0);
      t.equal(await counter(app.metrics, 'clearance_decision_log_entries_written_total'), written + 100);
    },
  );
});

t.test(
  'given the decision log writing to the database, when it refuses one row of a batch of 256, then that row is set apart in a few writes and the rest stored as they are',
  async (t) => {
    const { db } = await migratedDatabase(t);
    const metrics = new Metrics({ processMetrics: false });
    const batches: number[] = [];
    const log = new DecisionLog({
      mode: 'buffered',
      queueMax: 10_000,
      masks: () => [],
      markRefused: async () => undefined,
      metrics,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      spillDir: null,
      write: (rows: NewDecisionLogRow[]) => {
        batches.push(rows.length);
        return insertDecisionLogRows(db, rows);
      },
    });
    const entry = (subjectId: string): DecisionLogEntry => ({
      decisionId: crypto.randomUUID(),
      decidedAt: new Date(),
      endpoint: 'decide',
      batchId: null,
      tokenId: null,
      subjectId,
      action: 'client.view',
      resourceType: 'client',
      resourceId: 'c1',
      input: { note: 'kept' },
      result: { allow: true, reasons: [] },
      allow: true,
      reasonCodes: [],
      error: null,
      policyRevision: 'rev',
      shadow: null,
      evalUs: 1,
      durationUs: 2,
    });
    // Text no index can take (a btree entry is limited to about 2.7 kB, and random bytes do not compress).
    const huge = randomBytes(6000).toString('hex');
    const entries = Array.from({ length: 256 }, (_, i) => entry(i === 100 ? huge : `u${i}`));
    await log.record(entries);
    log.start();
    await stopWithin(log, 10_000);

    const rows = await db.selectFrom('decision_log').select(['decision_id', 'subject_id', 'input', 'error']).execute();
    t.equal(rows.length, 256, 'every entry stored');
    const refused = rows.find((row) => row.decision_id === entries[100]?.decisionId);
    t.match(
      refused,
      { input: null, error: { code: 'log_entry_unstorable' } },
      'the refused one kept without its input',
    );
    t.equal(refused?.subject_id?.length, 257, 'its text cut short so that it fits');
    t.equal(rows.filter((row) => row.input !== null).length, 255, 'the others with theirs');
    t.ok(
      batches.length <= 2 * Math.log2(256) + 2,
      `${batches.length} writes (${batches.join(', ')}), not one per entry`,
    );
    t.equal(
      await counter(metrics, 'clearance_decision_log_isolation_writes_total'),
      batches.length - 2,
      'the extra writes are counted',
    );
    t.equal(await counter(metrics, 'clearance_decision_log_unstorable_total'), 1);
  },
);
