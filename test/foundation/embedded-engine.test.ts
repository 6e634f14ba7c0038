// The embedded engine's memory at rest is mostly its shared buffers: they are set smaller than
// PostgreSQL's default (PGLITE_SHARED_BUFFERS), as a start parameter that writes nothing to disk.
import { sql } from 'kysely';
import t from 'tap';
import { openDatabase } from '../../service/data/connect.ts';

const sharedBuffers = async (size?: string) => {
  const handle = await openDatabase({
    databaseUrl: null,
    dataDir: null,
    ...(size === undefined ? {} : { pgliteSharedBuffers: size }),
  });
  try {
    const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(handle.db);
    return rows[0]?.shared_buffers;
  } finally {
    await handle.close();
  }
};

t.test(
  'when the embedded engine opens, then its shared buffers are 32MB, or what PGLITE_SHARED_BUFFERS says',
  async (t) => {
    t.equal(await sharedBuffers(), '32MB');
    t.equal(await sharedBuffers('16MB'), '16MB');
  },
);
