// Writes the OPA capabilities for policies run by the JavaScript wasm SDK: the current OPA's
// language features, with only the builtins named in policies/tools/wasm-builtins.txt (those
// OPA's wasm compiler builds in plus those the SDK implements in JavaScript).
// Usage: node scripts/wasm-capabilities.ts OPA_BINARY ALLOW_LIST OUT
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [opa, allowListPath, out] = process.argv.slice(2);
if (!opa || !allowListPath || !out) throw new Error('usage: wasm-capabilities.ts OPA ALLOW_LIST OUT');
const current = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8' })) as {
  builtins: Array<{ name: string }>;
};
const allowed = new Set(
  readFileSync(allowListPath, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean),
);
const known = new Set(current.builtins.map((b) => b.name));
const unknown = [...allowed].filter((name) => !known.has(name));
if (unknown.length > 0) {
  // A typo, or a builtin this OPA no longer has: fail loudly rather than build against a wrong list.
  throw new Error(`${allowListPath} names builtins ${opa} does not have: ${unknown.join(', ')}`);
}
const capabilities = { ...current, builtins: current.builtins.filter((b) => allowed.has(b.name)) };
writeFileSync(out, `${JSON.stringify(capabilities, null, 2)}\n`);
