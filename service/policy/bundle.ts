// Policy bundles as files: reads and writes the gzip tar archives `opa build` makes, and computes a
// bundle's revision id from its files, so the build (scripts/policy-bundle.ts) and the server that
// stores revisions name the same bundle alike and no bundle can claim another's id.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/** A bundle's files by path (no leading slash), in the order the archive held them. */
export type BundleFiles = ReadonlyMap<string, Buffer>;

export const MANIFEST = '.manifest';
export const SIGNATURES = '.signatures.json';
export const WASM = 'policy.wasm';
export const DATA = 'data.json';

/** What is wrong with a bundle, with a stable code (bundle_invalid unless a check says otherwise). */
export class BundleError extends Error {
  readonly code: string;
  constructor(message: string, code = 'bundle_invalid', options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'BundleError';
    this.code = code;
  }
}

const BLOCK = 512;
/** Unpacked size a bundle may reach: a gzip bomb stops here instead of filling the memory. */
export const MAX_UNPACKED_BYTES = 128 * 1024 * 1024;

/** A path inside the bundle, without a leading slash; refused when it could step outside it. */
function bundlePath(raw: string): string {
  const path = raw.replace(/^\/+/, '');
  const parts = path.split('/');
  if (path === '' || parts.some((part) => part === '' || part === '.' || part === '..') || path.includes('\0')) {
    throw new BundleError(`the bundle holds a file with an unusable path: ${JSON.stringify(raw)}`);
  }
  return path;
}

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, start: number, length: number, what: string): number {
  const text = field(header, start, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new BundleError(`the bundle's tar archive has a malformed ${what}`);
  return Number.parseInt(text, 8);
}

/** The path record of a PAX extended header ("<length> path=<value>\n" records). */
function paxPath(body: Buffer): string | null {
  let at = 0;
  let path: string | null = null;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const length = Number(body.subarray(at, space).toString('ascii'));
    if (space === -1 || !Number.isSafeInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    at += length;
  }
  return path;
}

/** The files of a gzip tar archive. Directories are skipped; links and devices are refused. */
export function readBundle(archive: Buffer): BundleFiles {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (error) {
    const tooBig = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new BundleError(
      tooBig
        ? `the bundle unpacks to more than ${MAX_UNPACKED_BYTES / 1024 / 1024} MiB`
        : 'the bundle is not readable gzip (send the bundle.tar.gz that make policies writes)',
      'bundle_invalid',
      { cause: error },
    );
  }
  const files = new Map<string, Buffer>();
  let longName: string | null = null;
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const stored = octal(header, 148, 8, 'header checksum');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    if (sum !== stored) throw new BundleError('the bundle is not a readable tar archive (a header checksum is wrong)');
    const size = octal(header, 124, 12, 'file size');
    const type = String.fromCharCode(header[156] as number);
    const body = tar.subarray(at + BLOCK, at + BLOCK + size);
    if (body.length !== size) throw new BundleError('the bundle is not a readable tar archive (it ends inside a file)');
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L') {
      if (longName !== null) throw new BundleError("the bundle's tar archive has two long names for one file");
      longName = type === 'x' ? paxPath(body) : field(body, 0, body.length);
      continue;
    }
    // A long name names the entry right after it, whatever it is, and nothing further.
    const named = longName;
    longName = null;
    if (type === 'g' || type === '5') continue;
    // The prefix field is ustar's; an old GNU header keeps other things there.
    const ustar = header.subarray(257, 263).toString('latin1') === 'ustar\0';
    const prefix = ustar ? field(header, 345, 155) : '';
    const name = named ?? (prefix === '' ? field(header, 0, 100) : `${prefix}/${field(header, 0, 100)}`);
    if (type !== '0' && type !== '\0') {
      throw new BundleError(`the bundle's ${JSON.stringify(name)} is not a regular file (tar type ${type})`);
    }
    const path = bundlePath(name);
    if (files.has(path)) throw new BundleError(`the bundle holds ${path} twice`);
    files.set(path, Buffer.from(body));
  }
  if (longName !== null) throw new BundleError("the bundle's tar archive ends with a long name for no file");
  if (files.size === 0) throw new BundleError('the bundle is not a tar archive of files (it holds none)');
  return files;
}

function tarHeader(path: string, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const bytes = Buffer.from(path, 'utf8');
  let name = path;
  let prefix = '';
  if (bytes.length > 100) {
    const cut = path.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100)
      throw new BundleError(`path too long for a bundle: ${path}`);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 8, 'ascii');
  header.write('0000000\0', 108, 8, 'ascii');
  header.write('0000000\0', 116, 8, 'ascii');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  header.write('00000000000\0', 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** A gzip tar archive of the files in path order, with no times or owners: same files, same bytes. */
export function writeBundle(files: BundleFiles): Buffer {
  const parts: Buffer[] = [];
  for (const path of [...files.keys()].sort()) {
    const body = files.get(path) as Buffer;
    parts.push(
      tarHeader(`/${bundlePath(path)}`, body.length),
      body,
      Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK),
    );
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** The manifest as JSON: the bundle's revision, roots, wasm entries and metadata (contract). */
export interface Manifest {
  revision?: unknown;
  metadata?: { contract?: unknown } & Record<string, unknown>;
  [key: string]: unknown;
}

export function readManifest(files: BundleFiles): Manifest {
  const raw = files.get(MANIFEST);
  if (raw === undefined) throw new BundleError(`the bundle has no ${MANIFEST}`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new BundleError(`the bundle's ${MANIFEST} is not JSON`, 'bundle_invalid', { cause: error });
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new BundleError(`the bundle's ${MANIFEST} is not a JSON object`);
  }
  return manifest as Manifest;
}

/** JSON with object keys sorted at every level: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Hex digits of a revision id (128 bits: finding two bundles with one id is out of reach). */
const ID_LENGTH = 32;

/**
 * The revision id of a bundle: a SHA-256 over every file's path and content hash, in path order.
 * The manifest counts without its own revision field (which the build sets to this id), and the
 * signatures file not at all (signing a bundle, or signing it again, does not make it another).
 */
export function bundleId(files: BundleFiles): string {
  const lines: string[] = [];
  for (const path of [...files.keys()].sort()) {
    if (path === SIGNATURES) continue;
    const body = files.get(path) as Buffer;
    if (path === MANIFEST) {
      const { revision: _revision, ...rest } = readManifest(files);
      lines.push(`${path}\0${sha256(canonicalJson(rest))}\n`);
    } else {
      lines.push(`${path}\0${sha256(body)}\n`);
    }
  }
  return sha256(lines.join('')).slice(0, ID_LENGTH);
}

/** The Rego files of a bundle (its sources, kept so a revision can be read and compared), by path. */
export function sourcePaths(files: BundleFiles): string[] {
  return [...files.keys()].filter((path) => path.endsWith('.rego')).sort();
}
