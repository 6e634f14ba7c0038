// Bundles the operator console (console/) into OUT_DIR (.build/console): one script and one style
// sheet, named by a hash of their contents so they can be cached for good, and index.html naming
// them (served uncached). No inline script or style anywhere: the console runs under a strict CSP.
// Usage: node scripts/build-console.ts [OUT_DIR]
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const out = process.argv[2] ?? '.build/console';
const staging = `${out}.tmp`;

await rm(staging, { recursive: true, force: true });
await mkdir(staging, { recursive: true });
const result = await build({
  entryPoints: { app: 'console/src/main.tsx' },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: staging,
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const named = (extension: string): string => {
  const file = outputs.find((name) => name.startsWith('app-') && name.endsWith(extension));
  if (file === undefined) throw new Error(`the console build wrote no app-*${extension}`);
  return file;
};
const page = (await readFile('console/index.html', 'utf8'))
  .replace('{{script}}', `/console/${named('.js')}`)
  .replace('{{styles}}', `/console/${named('.css')}`);
if (page.includes('{{')) throw new Error('console/index.html names a placeholder the build does not fill');
await writeFile(join(staging, 'index.html'), page);

await rm(out, { recursive: true, force: true });
await rename(staging, out);
console.log(`built the console into ${out} (${outputs.filter((name) => !name.endsWith('.map')).join(', ')})`);
