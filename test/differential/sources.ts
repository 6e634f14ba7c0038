// A snapshot of the Rego sources for opa eval, taken once so that every opa process sees the same
// files even while someone edits policies/, and a check that the compiled policy is not older
// than those sources (by modification time, as make judges it).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface SourceSnapshot {
  /** The folder holding the copied sources, for opa eval --data. */
  dir: string;
  /** Sources (relative to the repository) modified after the policy in buildDir was built. */
  newerThanBuild: string[];
}

function regoFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.rego') && !entry.name.endsWith('_test.rego'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** When the policy in buildDir was built: the newest of the folder and its files. */
function buildTime(buildDir: string): number {
  let newest = statSync(buildDir).mtimeMs;
  for (const name of readdirSync(buildDir)) newest = Math.max(newest, statSync(join(buildDir, name)).mtimeMs);
  return newest;
}

/** Copies root/policies/clearance (tests excluded) into workDir/policies. */
export function snapshotSources(root: string, buildDir: string, workDir: string): SourceSnapshot {
  const dir = join(workDir, 'policies');
  const built = buildTime(buildDir);
  const newerThanBuild: string[] = [];
  for (const file of regoFiles(join(root, 'policies/clearance'))) {
    const path = relative(root, file);
    if (statSync(file).mtimeMs > built) newerThanBuild.push(path);
    const copy = join(dir, path);
    mkdirSync(dirname(copy), { recursive: true });
    writeFileSync(copy, readFileSync(file));
  }
  return { dir, newerThanBuild };
}
