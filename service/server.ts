// The process: reads config once, builds the app, listens, and closes gracefully on
// SIGTERM/SIGINT (stop accepting, finish in-flight requests, flush, close the pools).
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`clearance: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

// A bootstrap token made on first start is shown once, here, and never logged.
let newToken: string | null = null;
const app = await buildApp({ config, onBootstrapToken: (token) => (newToken = token) });

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'stopping: no new connections, finishing in-flight requests');
  const force = setTimeout(() => {
    app.log.error('graceful stop took longer than 30 s; exiting');
    process.exit(1);
  }, 30_000);
  force.unref();
  try {
    await app.close();
    app.log.info('stopped');
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'error while stopping');
    process.exit(1);
  }
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

let address: string;
try {
  address = await app.listen({ host: config.host, port: config.port });
} catch (error) {
  app.log.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}`);
  process.exit(1);
}

await app.databaseStatus.whenMigrated;
if (!stopping) process.stdout.write(banner(address, newToken, config));

function banner(base: string, token: string | null, cfg: Config): string {
  const shown = token ?? '$CLEARANCE_ADMIN_TOKEN';
  const tokenLine =
    token !== null
      ? `  admin token (shown once, keep it): ${token}\n`
      : cfg.adminToken !== null
        ? '  admin token: the value of CLEARANCE_ADMIN_TOKEN\n'
        : '  admin token: the one printed at first start (or restart with CLEARANCE_ADMIN_TOKEN set to a token of your choice)\n';
  const demo = cfg.seedDemo ? '  demo data: practice "demo-practice" (users ada, cal, sam, lee, max, eve) and business "demo-business" (bob, uma, stu, exa)\n' : '';
  return (
    `\nClearance is listening on ${base} (database: ${app.database.engine}, policy: ${app.policy.engine?.revision ?? 'NOT LOADED'})\n` +
    tokenLine +
    demo +
    `  try:\n    curl -s ${base}/v1/decide -H 'Authorization: Bearer ${shown}' -H 'Content-Type: application/json' \\\n` +
    `      -d '{"subject":{"id":"sam"},"action":"client.view","resource":{"type":"client","id":"globex"}}'\n\n`
  );
}
