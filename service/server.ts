// The process entry point: reads config once, then either serves alone or, with
// CLEARANCE_WORKERS above 1, supervises that many worker processes sharing the port (node:cluster).
// Each worker is a whole service: its own pools, fact cache (following the same change feed) and
// decision log queue. Each role imports only its own part: a supervisor that loaded the app it
// never serves would hold a worker's module text for nothing (README, "Memory").
import cluster from 'node:cluster';
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

if (config.workers > 1 && cluster.isPrimary) (await import('./supervisor.ts')).supervise(config);
else await (await import('./serve.ts')).serve(config);
