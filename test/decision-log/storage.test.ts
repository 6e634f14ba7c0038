// Entries are stored exactly as written, whatever their text: the insert carries each column as
// one array, so array literal quoting must hold for every value an id or input may hold.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { insertDecisionLogRows } from '../../service/data/decision-log.ts';
import { toView } from '../../service/domain/decision-log-reader.ts';
import { migratedDatabase, TEST_ENGINE } from '../helpers/database.ts';
import { logRow } from '../helpers/decision-log.ts';

t.test(
  `given a migrated ${TEST_ENGINE} database, when awkward values are logged, then they read back unchanged`,
  async (t) => {
    const { db } = await migratedDatabase(t);
    const awkward = ['NULL', 'null', 'a,b', '{x}', 'quote"inside', 'back\\slash', "it's", 'sp ace', 'ünïcødé ✓', ''];
    const rows = awkward.map((text, i) =>
      logRow({
        subject_id: text === '' ? 'empty' : text,
        resource_id: i % 2 === 0 ? null : text,
        token_id: text,
        batch_id: i % 3 === 0 ? randomUUID() : null,
        allow: i % 3 === 0 ? null : i % 2 === 0,
        reason_codes: i % 2 === 0 ? [] : ['client_not_allocated', 'ledger_access_required'],
        input: i % 4 === 0 ? null : JSON.stringify({ text, nested: { list: [text, 1, null, true] } }),
        result: JSON.stringify({ allow: false, reasons: [{ code: 'x', message: text }] }),
        error: i === 5 ? JSON.stringify({ code: 'policy_error', message: text }) : null,
        policy_revision: text,
        eval_us: i === 7 ? null : i + 0.125,
      }),
    );
    await insertDecisionLogRows(db, rows);
    await insertDecisionLogRows(db, rows.slice(0, 3));
    const stored = await db.selectFrom('decision_log').selectAll().execute();
    t.equal(stored.length, rows.length, 'written once, a second write of the same entries skipped');
    for (const row of rows) {
      const got = stored.find((s) => s.decision_id === row.decision_id);
      t.ok(got, `entry for ${JSON.stringify(row.subject_id)}`);
      if (got === undefined) continue;
      t.same(
        { ...toView(got, new Map()), decided_at: undefined },
        {
          ...toView(
            {
              ...got,
              ...row,
              input: row.input === null ? null : JSON.parse(row.input as string),
              result: JSON.parse(row.result as string),
              masked: [],
              error: row.error === null ? null : JSON.parse(row.error as string),
            } as typeof got,
            new Map(),
          ),
          decided_at: undefined,
        },
        `${JSON.stringify(row.subject_id)} reads back as written`,
      );
    }
  },
);
