// Policy bundles for the revision tests: the local build as `make policies` wrote it, and bundles
// derived from it in memory as an author's mistakes or changes would make them (an action renamed,
// another contract, a broken module, a wrong revision claim, a signature and its tampering).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { signBundle } from '../../service/policy/bundle-signature.ts';
import {
  type BundleFiles,
  bundleId,
  DATA,
  MANIFEST,
  type Manifest,
  readBundle,
  readManifest,
  SIGNATURES,
  WASM,
  writeBundle,
} from '../../service/policy/bundle.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const POLICY_DIR = join(ROOT, '.build/policy');
const OPA = join(ROOT, '.tools/bin/opa');

export type Files = Map<string, Buffer>;

/** A bundle as uploaded, and the revision id the service computes for it. */
export interface Bundle {
  archive: Buffer;
  revision: string;
  files: Files;
}

/** The local build's archive, as make policies wrote it. */
export const localArchive = (): Buffer => readFileSync(join(POLICY_DIR, 'bundle.tar.gz'));

/** The revision make policies printed for the local build. */
export const localRevision = (): string => readFileSync(join(POLICY_DIR, 'revision'), 'utf8').trim();

export const localFiles = (): Files => new Map(readBundle(localArchive()));

/**
 * The files as an archive. The manifest names the bundle's id, as make policies writes it
 * (claim: 'id'), names none ('none'), or names the given text.
 */
export function bundleOf(files: BundleFiles, claim: 'id' | 'none' | string = 'id'): Bundle {
  const out: Files = new Map(files);
  const { revision: _claimed, ...manifest } = readManifest(out);
  out.set(MANIFEST, Buffer.from(JSON.stringify(manifest)));
  const revision = bundleId(out);
  if (claim !== 'none') {
    out.set(MANIFEST, Buffer.from(JSON.stringify({ revision: claim === 'id' ? revision : claim, ...manifest })));
  }
  return { archive: writeBundle(out), revision, files: out };
}

/** The files as they are, archived: what a signed bundle is uploaded as. */
export const archiveOf = (files: BundleFiles): Bundle => ({
  archive: writeBundle(files),
  revision: bundleId(files),
  files: new Map(files),
});

export function withManifest(files: BundleFiles, edit: (manifest: Manifest) => void): Files {
  const out: Files = new Map(files);
  const manifest = readManifest(out);
  edit(manifest);
  out.set(MANIFEST, Buffer.from(JSON.stringify(manifest)));
  return out;
}

export function withData(files: BundleFiles, edit: (data: Record<string, unknown>) => unknown): Files {
  const out: Files = new Map(files);
  const data = JSON.parse((out.get(DATA) as Buffer).toString('utf8')) as Record<string, unknown>;
  const replaced = edit(data);
  out.set(DATA, Buffer.from(JSON.stringify(replaced ?? data)));
  return out;
}

/** The local build under another id: the same policy, with a label in the manifest's metadata. */
export const variant = (label: string): Bundle =>
  bundleOf(
    withManifest(localFiles(), (manifest) => {
      manifest.metadata = { ...manifest.metadata, variant: label };
    }),
  );

/**
 * The known flips: the action renamed in the catalogue's resource_types table, so every decision
 * on it answers unknown_action, and every other decision is the same as the local build's.
 */
export function renamedAction(action = 'client.view'): Bundle {
  return bundleOf(
    withData(localFiles(), (data) => {
      const tables = (data as { clearance: { catalogue: { tables: { resource_types: Record<string, string> } } } })
        .clearance.catalogue.tables;
      const type = tables.resource_types[action];
      if (type === undefined) throw new Error(`the catalogue has no action ${action}`);
      delete tables.resource_types[action];
      tables.resource_types[`${action}.renamed`] = type;
    }),
  );
}

/** Built for an entrypoint contract this service does not serve. */
export const unsupportedContract = (): Bundle =>
  bundleOf(
    withManifest(localFiles(), (manifest) => {
      manifest.metadata = { ...manifest.metadata, contract: 'clearance/v99' };
    }),
  );

/** policy.wasm is not WebAssembly. */
export function unloadableModule(): Bundle {
  const files = localFiles();
  files.set(WASM, Buffer.from('\0asm but not really a module'));
  return bundleOf(files);
}

/** No constant tables: the module loads, but the canary's list decisions come back malformed. */
export const emptyData = (): Bundle => bundleOf(withData(localFiles(), () => ({})));

/**
 * An input contract change: invoices are no longer a valid item kind, so every decision on an
 * invoice answers invalid_input (and nothing else changes).
 */
export const stricterItemKinds = (): Bundle =>
  bundleOf(
    withData(localFiles(), (data) => {
      const tables = (data as { clearance: { validation: { tables: { item_facts: { kind: { values: string[] } } } } } })
        .clearance.validation.tables;
      tables.item_facts.kind.values = tables.item_facts.kind.values.filter((kind) => kind !== 'invoice');
    }),
  );

/**
 * No validation tables: the module loads (the messages table is there), but the canary's
 * decisions come back malformed.
 */
export const noValidationTables = (): Bundle =>
  bundleOf(
    withData(localFiles(), (data) => {
      delete (data as { clearance: { validation?: unknown } }).clearance.validation;
      return data;
    }),
  );

/**
 * Built by scripts/build-policy.sh from the policies with clearance/logged_verdict answering every
 * request with a deny, whatever clearance/verdict says: /v1/decide (which reads logged_verdict)
 * would answer otherwise than the decision the rules make.
 */
export function disagreeingLoggedVerdict(): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-disagreeing-policy-'));
  try {
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    // Its own tests would hold it to the honest answer (opa's type check reads them too).
    for (const file of readdirSync(join(dir, 'policies'), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('_test.rego')) rmSync(join(dir, 'policies', file));
    }
    const main = join(dir, 'policies/clearance/main.rego');
    const source = readFileSync(main, 'utf8');
    const honest = '\tverdict := verdict_of(input.input)\n\tentry := {';
    if (!source.includes(honest)) throw new Error('main.rego: logged_verdict no longer reads as this helper expects');
    writeFileSync(
      main,
      source.replace(
        honest,
        '\tverdict := [false, {"code": "invalid_input", "message": "a disagreeing build"}]\n\tentry := {',
      ),
    );
    // Built in the temporary folder (the script's .build/ there), not beside the repository's own build.
    symlinkSync(join(ROOT, 'scripts'), join(dir, 'scripts'));
    execFileSync(
      join(ROOT, 'scripts/build-policy.sh'),
      [OPA, join(ROOT, 'policies/tools/wasm-builtins.txt'), join(dir, 'out'), join(dir, 'policies/clearance')],
      { cwd: dir, stdio: 'pipe' },
    );
    return archiveOf(readBundle(readFileSync(join(dir, 'out/bundle.tar.gz'))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A bundle whose manifest claims an id its files do not make. */
export const claimingAnotherRevision = (): Bundle =>
  bundleOf(variant('claims-another-id').files, 'ffffffffffffffffffffffffffffffff');

/**
 * A bundle built by opa from a one-rule policy with the decision entrypoint only, for the
 * clearance/v1 contract: it loads, but lacks the other entrypoints the contract names.
 */
export function singleEntrypoint(): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-tiny-policy-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(
    join(dir, 'src/main.rego'),
    'package clearance\n\ndefault decision := {"allow": false, "reasons": []}\n',
  );
  execFileSync(OPA, ['build', '-t', 'wasm', '-e', 'clearance/decision', '-o', join(dir, 'bundle.tar.gz'), 'src'], {
    cwd: dir,
    stdio: 'pipe',
  });
  const files = withManifest(readBundle(readFileSync(join(dir, 'bundle.tar.gz'))), (manifest) => {
    manifest.metadata = { contract: 'clearance/v1' };
  });
  return bundleOf(files);
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** An RSA key pair in PEM, as an operator makes one for signing bundles. */
export function rsaKeyPair(): KeyPair {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** An EC (P-256) key pair in PEM: bundles signed with it are ES256. */
export function ecKeyPair(): KeyPair {
  return generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** Whether `opa build` accepts the bundle as signed with the public key (OPA verifying our signature). */
export function opaVerifies(bundle: Bundle, publicKey: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-opa-verify-'));
  writeFileSync(join(dir, 'key.pem'), publicKey);
  writeFileSync(join(dir, 'bundle.tar.gz'), bundle.archive);
  try {
    execFileSync(OPA, ['build', '-b', 'bundle.tar.gz', '--verification-key', 'key.pem', '-o', 'out.tar.gz'], {
      cwd: dir,
      stdio: 'pipe',
    });
    return { ok: true, output: '' };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    return { ok: false, output: `${stdout ?? ''}${stderr ?? ''}` };
  }
}

/** The files with a .signatures.json over them all, signed with the key. */
export function signed(files: BundleFiles, privateKey: string): Files {
  const out: Files = new Map(files);
  out.delete(SIGNATURES);
  out.set(SIGNATURES, signBundle(out, privateKey));
  return out;
}

/** The header and payload of the JWT in a bundle's .signatures.json. */
export function signatureOf(files: BundleFiles): { header: { alg: string }; payload: { files: unknown[] } } {
  const token = (JSON.parse((files.get(SIGNATURES) as Buffer).toString('utf8')) as { signatures: string[] })
    .signatures[0] as string;
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

/** The bundle with the .signatures.json `opa sign` writes for its archive. */
export function signedByOpa(bundle: Bundle, privateKey: string): Files {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-opa-sign-'));
  writeFileSync(join(dir, 'key.pem'), privateKey);
  writeFileSync(join(dir, 'bundle.tar.gz'), bundle.archive);
  mkdirSync(join(dir, 'out'));
  execFileSync(OPA, ['sign', '--signing-key', 'key.pem', '--bundle', 'bundle.tar.gz', '--output-file-path', 'out'], {
    cwd: dir,
    stdio: 'pipe',
  });
  const out: Files = new Map(bundle.files);
  out.set(SIGNATURES, readFileSync(join(dir, 'out', SIGNATURES)));
  return out;
}

/**
 * A gzip tar archive of exactly these entries, as a hand-made (or hostile) archive may hold them:
 * any path, and any tar type (0 a file, 2 a symbolic link to link).
 */
export function tarOf(entries: Array<{ path: string; body?: Buffer; type?: string; link?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const { path, body = Buffer.alloc(0), type = '0', link = '' } of entries) {
    const header = Buffer.alloc(512);
    header.write(path, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write('00000000000\0', 136, 'ascii');
    header.write('        ', 148, 'ascii');
    header.write(type, 156, 'ascii');
    header.write(link, 157, 100, 'utf8');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** A small gzip that unpacks to more than MiB mebibytes of zeros (one member per MiB, concatenated). */
export function gzipBomb(mebibytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024));
  return Buffer.concat(Array.from({ length: mebibytes }, () => member));
}
