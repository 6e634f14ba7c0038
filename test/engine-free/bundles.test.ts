// Reading bundles and their signatures where an archive or a key is not what it should be: a long
// name names one entry only, a malformed signatures file is a refusal (never a crash), the
// algorithm must be the key's kind, and a verification key that is not one stops start-up.
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../service/config.ts';
import { readBundle, SIGNATURES } from '../../service/policy/bundle.ts';
import { signBundle, verifyBundle } from '../../service/policy/bundle-signature.ts';
import { ecKeyPair, localFiles, rsaKeyPair, tarOf } from '../helpers/policy-bundles.ts';

const pax = (record: string) => {
  const line = ` ${record}\n`;
  let length = line.length + 1;
  while (`${length}${line}`.length !== length) length += 1;
  return Buffer.from(`${length}${line}`);
};

t.test(
  'when a long name stands before a directory, then it names the directory alone, not the file after',
  async (t) => {
    const files = readBundle(
      tarOf([
        { path: 'PaxHeader', type: 'x', body: pax('path=policy.wasm') },
        { path: 'dir/', type: '5' },
        { path: 'evil.bin', body: Buffer.from('not a module') },
      ]),
    );
    t.same([...files.keys()], ['evil.bin']);
  },
);

t.test('when an archive ends with a long name for no entry, then it is refused', async (t) => {
  t.throws(() => readBundle(tarOf([{ path: 'PaxHeader', type: 'x', body: pax('path=policy.wasm') }])), {
    code: 'bundle_invalid',
    message: /long name for no file/,
  });
});

t.test('when the signatures file is not what OPA writes, then it is refused, never a crash', async (t) => {
  const key = createPublicKey(rsaKeyPair().publicKey);
  const header = Buffer.from('null').toString('base64url');
  for (const [what, body] of [
    ['null', 'null'],
    ['an array', '[]'],
    ['a JWT whose header is null', JSON.stringify({ signatures: [`${header}.${header}.sig`] })],
    ['two JWTs', JSON.stringify({ signatures: ['a.b.c', 'a.b.c'] })],
  ] as const) {
    const files = new Map(localFiles());
    files.set(SIGNATURES, Buffer.from(body));
    t.throws(() => verifyBundle(files, key), { code: 'bundle_signature_invalid' }, what);
  }
});

t.test('when a bundle is signed ES256 and the key is RSA (or the other way), then it is refused', async (t) => {
  const ec = ecKeyPair();
  const rsa = rsaKeyPair();
  const files = new Map(localFiles());
  files.set(SIGNATURES, signBundle(files, ec.privateKey));
  t.throws(() => verifyBundle(files, createPublicKey(rsa.publicKey)), { code: 'bundle_signature_invalid' });
  t.doesNotThrow(() => verifyBundle(files, createPublicKey(ec.publicKey)));
});

t.test('when the verification key is not a usable key, then start-up stops naming the variable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'clearance-keys-'));
  writeFileSync(join(dir, 'empty.pem'), '');
  writeFileSync(join(dir, 'short.key'), 'short secret\n');
  writeFileSync(join(dir, 'broken.pem'), '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n');
  for (const [what, value] of [
    ['an empty file', join(dir, 'empty.pem')],
    ['a missing file', join(dir, 'no-such-dir', 'verify-key-that-is-long-enough.pem')],
    ['a file holding a short secret', join(dir, 'short.key')],
    ['a broken PEM key', join(dir, 'broken.pem')],
    ['a short secret', 'too short'],
  ] as const) {
    t.throws(
      () => loadConfig({ CLEARANCE_POLICY_VERIFY_KEY: value }),
      { name: 'ConfigError', message: /CLEARANCE_POLICY_VERIFY_KEY/ },
      what,
    );
  }
  const good = join(dir, 'good.pem');
  writeFileSync(good, rsaKeyPair().publicKey);
  t.match(loadConfig({ CLEARANCE_POLICY_VERIFY_KEY: good }).policyVerifyKey, /^-----BEGIN PUBLIC KEY-----/);
});
