import t from 'tap';
import { sql } from 'kysely';
import { migrateDown, migrateToLatest } from '../../service/data/migrate.ts';
import { emptyDatabase, TEST_ENGINE } from '../helpers/database.ts';

const tables = async (db: Parameters<typeof migrateToLatest>[0]) =>
  (
    await sql<{ table_name: string }>`select table_name from information_schema.tables
      where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(db)
  ).rows.map((r) => r.table_name);

t.test(
  `given an empty ${TEST_ENGINE} database, when migrated up, down and up again, then the schema comes and goes`,
  async (t) => {
    const { db } = await emptyDatabase(t);
    const applied = await migrateToLatest(db);
    t.ok(applied.length >= 1, 'migrations applied');
    t.same(await migrateToLatest(db), [], 'a second run applies nothing');
    for (const table of ['accounts', 'allocations', 'clients', 'items', 'ledger_access', 'users']) {
      t.ok((await tables(db)).includes(table), `${table} exists`);
    }
    const reverted = await migrateDown(db);
    t.same(reverted, [...applied].reverse(), 'every migration reverted, newest first');
    t.same(await tables(db), [], 'no tables left');
    t.same(await migrateToLatest(db), applied, 'up again');
  },
);
