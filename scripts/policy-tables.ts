// Evaluates the constant tables of the policy (every rule of a tables.rego file) once, at build
// time, and writes them as the bundle's data document. The WebAssembly build leaves tables.rego
// out and reads the same paths from this data instead: compiled to WebAssembly, a table written
// in Rego is built anew, key by key, on every evaluation (about a quarter of a decision's time),
// where data is loaded once. opa test, opa eval and an OPA server read the Rego itself; the
// differential test checks the two give the same decisions (a set becomes a JSON array here,
// which `in` and lookups treat alike: see policies/README.md, "Tables").
//
//   node scripts/policy-tables.ts OPA SOURCE_DIR OUT_FILE
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
if (args.length !== 3) {
  console.error('usage: node scripts/policy-tables.ts OPA SOURCE_DIR OUT_FILE');
  process.exit(2);
}
const [opa, source, out] = args as [string, string, string];

interface Term {
  type: string;
  value: unknown;
}
interface ParsedModule {
  package: { path: Term[] };
  rules?: Array<{ head: { name?: string; ref?: Term[]; args?: unknown[]; key?: unknown }; location?: { row: number } }>;
}

function fail(message: string): never {
  console.error(`policy tables: ${message}`);
  process.exit(1);
}

function tableFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name === 'tables.rego')
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** The package path and the table names of one tables.rego; a rule that is not a constant table fails the build. */
function tablesOf(file: string): { path: string[]; names: string[] } {
  const module = JSON.parse(
    execFileSync(opa, ['parse', '--format', 'json', file], { encoding: 'utf8' }),
  ) as ParsedModule;
  const path = module.package.path.slice(1).map((term) => String(term.value));
  const names = new Set<string>();
  for (const { head, location } of module.rules ?? []) {
    const at = `${file}:${location?.row ?? '?'}`;
    if (head.args !== undefined)
      fail(`${at}: ${head.name ?? 'a rule'} is a function; tables.rego holds constant tables only`);
    if (head.key !== undefined || (head.ref?.length ?? 1) !== 1 || head.name === undefined) {
      fail(`${at}: only complete rules (name := value) belong in tables.rego`);
    }
    names.add(head.name);
  }
  return { path, names: [...names] };
}

/** The values of refs, bound one by one (a table whose value is false is still a value); none if any is undefined. */
function evaluate(refs: string[]): unknown[] {
  const query = refs.map((ref, i) => `t${i} := ${ref}`).join('; ');
  let output: string;
  try {
    output = execFileSync(opa, ['eval', '--format', 'json', '-d', source, query], { encoding: 'utf8' });
  } catch (error) {
    fail(`opa eval failed:\n${(error as { stdout?: string }).stdout ?? (error as Error).message}`);
  }
  const { result } = JSON.parse(output) as { result?: Array<{ bindings: Record<string, unknown> }> };
  const bindings = result?.[0]?.bindings;
  return bindings === undefined ? [] : refs.map((_, i) => bindings[`t${i}`]);
}

const data: Record<string, unknown> = {};
for (const file of tableFiles(source)) {
  const { path, names } = tablesOf(file);
  const refs = names.map((name) => ['data', ...path, name].join('.'));
  const values = evaluate(refs);
  if (values.length !== refs.length) {
    const undefinedRefs = refs.filter((ref) => evaluate([ref]).length === 0);
    fail(`${file}: ${undefinedRefs.join(', ')} undefined without input (a table may not read input)`);
  }
  let node = data;
  for (const key of path) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  names.forEach((name, i) => {
    node[name] = values[i];
  });
}
writeFileSync(out, `${JSON.stringify(data)}\n`);
