// A configuration for tests: nothing read from the environment, logs silent.
import { loadConfig, type Config } from '../../service/config.ts';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), logLevel: 'silent', seedDemo: false, ...overrides };
}
