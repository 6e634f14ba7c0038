// Turns the archive `opa build -t wasm` writes into the bundle Clearance stores as a revision:
// policy.wasm, data.json and the manifest as OPA wrote them, the Rego sources as written (OPA's
// WebAssembly bundle carries rewritten Rego; authors read and compare their own), the manifest's
// metadata from policies/manifest.json (the entrypoint contract), and the manifest's revision set
// to the bundle's id, the same the server computes (service/policy/bundle.ts). It then writes the
// bundle (OUT_DIR/bundle.tar.gz, signed when POLICY_SIGNING_KEY is set), its loose files for
// loading in place, and OUT_DIR/revision.
//
//   node scripts/policy-bundle.ts OPA_BUNDLE SOURCE_DIR MANIFEST_EXTRA OUT_DIR
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import {
  bundleId,
  DATA,
  MANIFEST,
  readBundle,
  readManifest,
  SIGNATURES,
  WASM,
  writeBundle,
} from '../service/policy/bundle.ts';
import { signBundle } from '../service/policy/bundle-signature.ts';

const args = process.argv.slice(2);
if (args.length !== 4) {
  console.error('usage: node scripts/policy-bundle.ts OPA_BUNDLE SOURCE_DIR MANIFEST_EXTRA OUT_DIR');
  process.exit(2);
}
const [opaBundle, sourceDir, manifestExtra, out] = args as [string, string, string, string];

function regoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return regoFiles(path);
    return entry.name.endsWith('.rego') ? [path] : [];
  });
}

const files = new Map(readBundle(readFileSync(opaBundle)));
for (const path of [...files.keys()]) if (path.endsWith('.rego')) files.delete(path);
// Paths as in OPA's own bundle of the repository's policies (policies/clearance/...), wherever the
// sources were built from.
for (const path of regoFiles(sourceDir).sort())
  files.set(join('policies', relative(dirname(sourceDir), path)), readFileSync(path));

const extra = JSON.parse(readFileSync(manifestExtra, 'utf8')) as { metadata?: Record<string, unknown> };
const { revision: _opaRevision, ...manifest } = readManifest(files);
manifest.metadata = { ...(manifest.metadata ?? {}), ...(extra.metadata ?? {}) };
files.set(MANIFEST, Buffer.from(JSON.stringify(manifest)));
const revision = bundleId(files);
files.set(MANIFEST, Buffer.from(JSON.stringify({ revision, ...manifest })));
if (bundleId(files) !== revision) throw new Error('the revision field changed the bundle id');

// Signed when POLICY_SIGNING_KEY is set: a PEM private key (RS256, or ES256 for an EC key), a file
// holding one, or an HMAC secret (HS256); the service checks it against CLEARANCE_POLICY_VERIFY_KEY.
const signingKey = process.env.POLICY_SIGNING_KEY;
if (signingKey !== undefined && signingKey !== '') {
  const key =
    !signingKey.includes('-----BEGIN') && existsSync(signingKey) ? readFileSync(signingKey, 'utf8') : signingKey;
  files.set(SIGNATURES, signBundle(files, key));
  console.error('signed the bundle with POLICY_SIGNING_KEY');
}

writeFileSync(join(out, 'bundle.tar.gz'), writeBundle(files));
for (const name of [WASM, DATA, MANIFEST]) writeFileSync(join(out, name), files.get(name) as Buffer);
writeFileSync(join(out, 'revision'), `${revision}\n`);
console.log(revision);
