// A configuration for tests: nothing read from the environment, logs silent, and a data folder of
// its own (where a decision log spill would go), never the developer's .data.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../service/config.ts';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}),
    logLevel: 'silent',
    seedDemo: false,
    policyWatch: false,
    dataDir: mkdtempSync(join(tmpdir(), 'clearance-test-')),
    ...overrides,
  };
}
