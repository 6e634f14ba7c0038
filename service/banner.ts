// The start-up banner: where Clearance listens, how to call it, where the console is. A lone
// process prints it itself; a cluster's supervisor prints it once from what its workers report.
// Kept apart from serve.ts so the supervisor does not load the whole app to print it.
import type { Config } from './config.ts';

/** What a worker tells the supervisor once it is listening and migrated. */
export interface WorkerReady {
  type: 'clearance:ready';
  address: string;
  engine: string;
  revision: string | null;
  /** A bootstrap token this worker made (already printed by the worker, and in the banner), or null. */
  token: string | null;
  /** The demo data's example (user sam, client globex) exists, so the banner may offer it. */
  demo: boolean;
}

export function banner(ready: Omit<WorkerReady, 'type'>, config: Config): string {
  const base = ready.address;
  const tokenLine =
    ready.token !== null
      ? `  admin token: ${ready.token} (made at this first start, printed above; not shown again)\n`
      : config.adminToken !== null
        ? '  admin token: the value of CLEARANCE_ADMIN_TOKEN (export it in the shell you try the curl below from)\n'
        : '  admin token: the one printed at first start (export CLEARANCE_ADMIN_TOKEN=<it> to try the curl below), or restart with CLEARANCE_ADMIN_TOKEN set to a token of your choice\n';
  // Double quotes: the shell expands $CLEARANCE_ADMIN_TOKEN in them (in single quotes it never would).
  const shown = ready.token ?? '$CLEARANCE_ADMIN_TOKEN';
  const example = ready.demo
    ? '  demo data: practice "demo-practice" (users ada, cal, sam, lee, max, eve) and business "demo-business" (bob, uma, stu, exa)\n' +
      `  try:\n    curl -s ${base}/v1/decide -H "Authorization: Bearer ${shown}" -H 'Content-Type: application/json' \\\n` +
      `      -d '{"subject":{"id":"sam"},"action":"client.view","resource":{"type":"client","id":"globex"}}'\n`
    : '  no demo data in this database: write your facts through the context API (README, "Keeping facts in step"), or start on an\n' +
      '  empty database with CLEARANCE_SEED_DEMO=true to have the demo practice and business written in\n';
  const workers = config.workers > 1 ? `, ${config.workers} workers` : '';
  const policies =
    `  policies: CLEARANCE_TOKEN="${shown}" ./clearance policy list (README, "Changing a policy")` +
    (config.policyWatch ? '; each make policies while this runs is activated\n' : '\n');
  const consoleLine = `  console: ${base}/console/ (sign in with a token holding the logs scope; the admin token holds every scope)\n`;
  return (
    `\nClearance is listening on ${base} (database: ${ready.engine}, policy: ${ready.revision ?? 'NOT LOADED'}, decision log: ${config.decisionLog.mode}${workers})\n` +
    tokenLine +
    consoleLine +
    example +
    policies +
    '\n'
  );
}
