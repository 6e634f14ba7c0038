// Writes the OPA capabilities for policies run by the JavaScript wasm SDK: the current OPA's
// language features, restricted to the builtins the installed SDK ships support for.
// Usage: node scripts/wasm-capabilities.ts OPA_BINARY SDK_CAPABILITIES OUT
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

interface Capabilities {
  builtins: Array<{ name: string }>;
  features?: string[];
  wasm_abi_versions?: unknown[];
  [key: string]: unknown;
}

const [opa, sdkPath, out] = process.argv.slice(2);
if (!opa || !sdkPath || !out) throw new Error('usage: wasm-capabilities.ts OPA SDK_CAPABILITIES OUT');
const current = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8' })) as Capabilities;
const sdk = JSON.parse(readFileSync(sdkPath, 'utf8')) as Capabilities;
const supported = new Set(sdk.builtins.map((b) => b.name));
const capabilities: Capabilities = {
  ...current,
  builtins: current.builtins.filter((b) => supported.has(b.name)),
  wasm_abi_versions: sdk.wasm_abi_versions ?? current.wasm_abi_versions ?? [],
};
writeFileSync(out, `${JSON.stringify(capabilities, null, 2)}\n`);
