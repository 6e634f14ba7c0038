// The process entry point: reads config once, then either serves alone or, with
// CLEARANCE_WORKERS above 1, supervises that many worker processes sharing the port (node:cluster).
// Each worker is a whole service: its own pools, fact cache (following the same change feed) and
// decision log queue.
import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { serve } from './serve.ts';
import { supervise } from './supervisor.ts';

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

if (config.workers > 1 && cluster.isPrimary) supervise(config);
else await serve(config);
