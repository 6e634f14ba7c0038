// The process entry point: reads config once, then either serves alone or, with
// CLEARANCE_WORKERS above 1, supervises that many worker processes sharing the port (node:cluster).
// Each worker is a whole service: its own pools, fact cache (following the same change feed) and
// decision log queue. Each role imports only its own part: a supervisor that loaded the app it
// never serves would hold a worker's module text for nothing (README, "Memory").
import cluster from 'node:cluster';
import { constants, enableCompileCache } from 'node:module';
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

// Node's module compile cache keeps each module's type-stripped and compiled form on disk (keyed by
// the source's content: an edited file is compiled anew). A process or worker thread that starts
// with it on and finds every module there never loads the TypeScript stripper (a WebAssembly build
// of swc: about 18 MB in a process, 12 MB in a thread) and starts faster (README, "Memory"). This
// process uses it for what it imports from here on; the variable takes it to the workers and the
// decision log's writer threads from their start. Node's NODE_DISABLE_COMPILE_CACHE=1 turns it off.
if (enableCompileCache(config.compileCacheDir).status !== constants.compileCacheStatus.FAILED)
  process.env.NODE_COMPILE_CACHE = config.compileCacheDir;

if (config.workers > 1 && cluster.isPrimary) (await import('./supervisor.ts')).supervise(config);
else await (await import('./serve.ts')).serve(config);
