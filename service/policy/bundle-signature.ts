// Bundle signatures in OPA's format: .signatures.json holds one JWT whose payload lists every file
// of the bundle with its hash (a JSON file, data.json or .manifest, hashed in OPA's canonical form).
// A bundle passes only when the JWT verifies with the configured key and it names exactly the
// bundle's files: a file it does not cover is refused, not skipped (OPA's signature-bypass advisory).
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign,
  timingSafeEqual,
  verify,
  constants,
  type KeyObject,
} from 'node:crypto';
import { BundleError, type BundleFiles, SIGNATURES } from './bundle.ts';
import type { BundleVerifier } from '../domain/bundle-checks.ts';

const DIGESTS: Record<string, string> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** Go's encoding of a JSON string (as OPA's hasher writes it): JSON.stringify, with U+2028 and U+2029 escaped. */
const goString = (text: string) =>
  JSON.stringify(text)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** OPA's hash input for a structured file: keys sorted at every level, no spaces. */
function opaCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(opaCanonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${goString(key)}:${opaCanonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return typeof value === 'string' ? goString(value) : JSON.stringify(value);
}

const isStructured = (path: string) => {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === '.manifest' || base.endsWith('.yaml') || base.endsWith('.yml');
};

/** A file's hash as OPA's signature lists it. */
export function fileHash(path: string, body: Buffer, algorithm = 'SHA-256'): string {
  const digest = DIGESTS[algorithm];
  if (digest === undefined)
    throw new BundleError(`unsupported hashing algorithm ${algorithm} for ${path}`, 'bundle_signature_invalid');
  const hash = createHash(digest);
  if (isStructured(path)) {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new BundleError(`${path} is not JSON`, 'bundle_invalid', { cause: error });
    }
    hash.update(opaCanonical(value));
  } else {
    hash.update(body);
  }
  return hash.digest('hex');
}

interface Algorithm {
  hmac?: string;
  digest: string;
  keyType?: readonly string[];
  options?: { padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
}

const RSA = ['rsa', 'rsa-pss'] as const;
const EC = ['ec'] as const;

const ALGORITHMS: Record<string, Algorithm> = {
  HS256: { hmac: 'sha256', digest: 'sha256' },
  HS384: { hmac: 'sha384', digest: 'sha384' },
  HS512: { hmac: 'sha512', digest: 'sha512' },
  RS256: { digest: 'sha256', keyType: RSA },
  RS384: { digest: 'sha384', keyType: RSA },
  RS512: { digest: 'sha512', keyType: RSA },
  PS256: { digest: 'sha256', keyType: RSA, options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  PS384: { digest: 'sha384', keyType: RSA, options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } },
  PS512: { digest: 'sha512', keyType: RSA, options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } },
  ES256: { digest: 'sha256', keyType: EC, options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { digest: 'sha384', keyType: EC, options: { dsaEncoding: 'ieee-p1363' } },
  ES512: { digest: 'sha512', keyType: EC, options: { dsaEncoding: 'ieee-p1363' } },
};

const invalid = (message: string) => new BundleError(`bundle signature: ${message}`, 'bundle_signature_invalid');

const base64url = (text: string) => Buffer.from(text, 'base64url');

/** A JSON object, or a refusal naming what was not one. */
function jsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The files the JWT lists, once its signature verifies with key. */
function verifiedFiles(token: string, key: KeyObject | Buffer): Map<string, { hash: string; algorithm: string }> {
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('the JWT is not in compact form');
  const [header64, payload64, signature64] = parts as [string, string, string];
  const header = jsonObject(base64url(header64).toString('utf8'), 'the JWT header') as { alg?: unknown };
  const payload = jsonObject(base64url(payload64).toString('utf8'), 'the JWT payload') as {
    files?: unknown;
    scope?: unknown;
  };
  const algorithm =
    typeof header.alg === 'string' && Object.hasOwn(ALGORITHMS, header.alg) ? ALGORITHMS[header.alg] : undefined;
  if (algorithm === undefined) throw invalid(`unsupported algorithm ${JSON.stringify(header.alg)}`);
  // The algorithm must be the key's kind: RS/PS for an RSA key, ES for an EC key.
  if (
    !Buffer.isBuffer(key) &&
    algorithm.keyType !== undefined &&
    !algorithm.keyType.includes(key.asymmetricKeyType ?? '')
  ) {
    throw invalid(`${String(header.alg)} does not go with the configured ${key.asymmetricKeyType} key`);
  }
  const signed = Buffer.from(`${header64}.${payload64}`);
  const signature = base64url(signature64);
  let good: boolean;
  if (Buffer.isBuffer(key)) {
    // A shared secret verifies HMAC only, and a public key never does (no algorithm confusion).
    if (algorithm.hmac === undefined)
      throw invalid(`${String(header.alg)} needs a public key, and an HMAC secret is configured`);
    const expected = createHmac(algorithm.hmac, key).update(signed).digest();
    good = expected.length === signature.length && timingSafeEqual(expected, signature);
  } else {
    if (algorithm.hmac !== undefined)
      throw invalid(`${String(header.alg)} is an HMAC algorithm, and a public key is configured`);
    try {
      good = verify(algorithm.digest, signed, { key, ...algorithm.options }, signature);
    } catch {
      good = false;
    }
  }
  if (!good) throw invalid('the JWT does not verify with the configured key');
  if (payload.scope !== undefined && payload.scope !== '') throw invalid('scope mismatch');
  if (!Array.isArray(payload.files)) throw invalid('the JWT lists no files');
  const files = new Map<string, { hash: string; algorithm: string }>();
  for (const file of payload.files as unknown[]) {
    const {
      name,
      hash,
      algorithm: hashing,
    } = (typeof file === 'object' && file !== null ? file : {}) as {
      name?: unknown;
      hash?: unknown;
      algorithm?: unknown;
    };
    if (typeof name !== 'string' || typeof hash !== 'string' || typeof hashing !== 'string') {
      throw invalid('a file entry of the JWT is malformed');
    }
    const path = name.replace(/^\/+/, '');
    if (files.has(path)) throw invalid(`the JWT lists ${path} twice`);
    files.set(path, { hash: hash.toLowerCase(), algorithm: hashing });
  }
  return files;
}

/** Checks that the bundle is signed with key over exactly its files. */
export function verifyBundle(files: BundleFiles, key: KeyObject | Buffer): void {
  const raw = files.get(SIGNATURES);
  if (raw === undefined) throw invalid('the bundle has no .signatures.json, and this service requires signed bundles');
  const config = jsonObject(raw.toString('utf8'), '.signatures.json') as { signatures?: unknown };
  if (!Array.isArray(config.signatures) || config.signatures.length !== 1 || typeof config.signatures[0] !== 'string') {
    throw invalid('.signatures.json must hold exactly one JWT');
  }
  const listed = verifiedFiles(config.signatures[0], key);
  for (const [path, body] of files) {
    if (path === SIGNATURES) continue;
    const entry = listed.get(path);
    if (entry === undefined) throw invalid(`${path} is not covered by the signature`);
    if (fileHash(path, body, entry.algorithm) !== entry.hash) throw invalid(`${path} does not match its signed hash`);
    listed.delete(path);
  }
  if (listed.size > 0)
    throw invalid(`the signature lists files the bundle does not hold: ${[...listed.keys()].join(', ')}`);
}

/** The verifier for the configured key (PEM public key, else an HMAC secret); without one, signatures are not checked. */
export function bundleVerifier(key: string | null): BundleVerifier {
  if (key === null) return () => ({ signed: false });
  // An empty secret would let anyone sign (config.ts refuses one; this is the last guard).
  if (key.trim().length < 32 && !key.includes('-----BEGIN'))
    throw new Error('a bundle verification secret must be at least 32 characters');
  const material = key.includes('-----BEGIN') ? createPublicKey(key) : Buffer.from(key, 'utf8');
  return (files) => {
    verifyBundle(files, material);
    return { signed: true };
  };
}

/** Signs a bundle's files as `opa sign` does (RS256 or ES256 by the key's type, or HS256 for a secret): the .signatures.json to add. */
export function signBundle(files: BundleFiles, key: string): Buffer {
  const listed = [...files.keys()]
    .filter((path) => path !== SIGNATURES)
    .sort()
    .map((name) => ({ name, hash: fileHash(name, files.get(name) as Buffer), algorithm: 'SHA-256' }));
  const pem = key.includes('-----BEGIN');
  const privateKey = pem ? createPrivateKey(key) : null;
  const alg = privateKey === null ? 'HS256' : privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg, typ: 'JWT' })}.${encode({ files: listed })}`;
  const signature =
    privateKey === null
      ? createHmac('sha256', key).update(body).digest()
      : sign(
          'sha256',
          Buffer.from(body),
          alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey,
        );
  return Buffer.from(JSON.stringify({ signatures: [`${body}.${signature.toString('base64url')}`] }));
}
