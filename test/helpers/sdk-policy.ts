// The built policy loaded with the OPA SDK's own loader, as a client of the bundle would load it
// (policy.wasm and its data), to hold the engine's answers against.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';

const { loadPolicySync } = createRequire(import.meta.url)(
  '@open-policy-agent/opa-wasm',
) as typeof import('@open-policy-agent/opa-wasm');

export function loadSdkPolicy(dir: string): LoadedPolicy {
  const policy = loadPolicySync(readFileSync(join(dir, 'policy.wasm')), { initial: 16, maximum: 16384 });
  policy.setData(JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')));
  return policy;
}
