// Policy revisions as an author uploads and reads them: a bundle is checked, then stored under the
// id its files make (the one make policies prints); a failing bundle is refused naming what failed,
// and nothing is stored. With a verification key, only bundles signed over exactly their files pass.
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import type { components } from '../../service/http/openapi-types.ts';
import t from 'tap';
import { SIGNATURES } from '../../service/policy/bundle.ts';
import { bundleVerifier } from '../../service/policy/bundle-signature.ts';
import { buildTestApp } from '../helpers/app.ts';
import { makeToken } from '../helpers/fixtures.ts';
import { policyApi, type RevisionView, uploaded } from '../helpers/policy-api.ts';
import {
  archiveOf,
  type Bundle,
  bundleOf,
  claimingAnotherRevision,
  disagreeingLoggedVerdict,
  ecKeyPair,
  emptyData,
  gzipBomb,
  type Files,
  localArchive,
  localRevision,
  noValidationTables,
  opaVerifies,
  renamedAction,
  rsaKeyPair,
  signed,
  signatureOf,
  signedByOpa,
  singleEntrypoint,
  tarOf,
  unloadableModule,
  unsupportedContract,
  variant,
} from '../helpers/policy-bundles.ts';

const ADMIN = 'admin-token-for-policy-revision-tests';
const MAIN = 'policies/clearance/main.rego';

const tokenId = (token: string) => token.split('_')[1] as string;

type AuditEntry = components['schemas']['AuditEntry'];

t.test('given the service on a fresh database and a token with the policy scope', async (t) => {
  const { app, database } = await buildTestApp(t, { adminToken: ADMIN });
  const token = await makeToken(database.db, ['policy']);
  const author = policyApi(app, token);
  const count = async () => (await author.list('?limit=1000')).revisions.length;

  t.test(
    'when nothing was uploaded yet, then the local build is the one revision, stored and activated at start',
    async (t) => {
      const listed = await policyApi(app, ADMIN).list();
      t.match(listed, {
        revisions: [
          {
            revision: localRevision(),
            created_by: 'service:local-build',
            contract: 'clearance/v2',
            size_bytes: localArchive().length,
            signed: false,
            active: true,
            shadow: false,
          },
        ],
        next_cursor: null,
        active: {
          revision: localRevision(),
          change: 'activate',
          activated_by: 'service:local-build',
          previous_revision: null,
        },
        shadow: null,
      });
      t.equal(listed.revisions.length, 1);
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      t.equal(ready.statusCode, 200);
      t.equal(ready.json().policy_revision, localRevision(), '/ready names the revision served');
      t.notOk('policy_pending' in ready.json());
    },
  );

  t.test('when a new bundle is uploaded, then 201 names its id, stored inactive, by the token', async (t) => {
    const bundle = variant('uploaded');
    const response = await author.upload(bundle.archive);
    t.equal(response.statusCode, 201, response.body);
    t.match(response.json(), {
      revision: bundle.revision,
      created_at: String,
      created_by: tokenId(token),
      contract: 'clearance/v2',
      size_bytes: bundle.archive.length,
      signed: false,
      active: false,
      shadow: false,
    });
    t.same(Object.keys(response.json()).sort(), [
      'active',
      'contract',
      'created_at',
      'created_by',
      'revision',
      'shadow',
      'signed',
      'size_bytes',
    ]);

    const again = await author.upload(bundle.archive);
    t.equal(again.statusCode, 200, 'the same bundle again is not a new revision');
    t.same(again.json(), response.json(), 'it answers the stored revision as it was');
    const unnamed = await author.upload(bundleOf(bundle.files, 'none').archive);
    t.equal(unnamed.statusCode, 200, 'a manifest without a revision makes the same id');
    t.equal(unnamed.json().revision, bundle.revision);
    const listed = await author.list();
    t.equal(listed.revisions.filter((r) => r.revision === bundle.revision).length, 1, 'stored once');
    t.equal(listed.active?.revision, localRevision(), 'an upload changes nothing served');
  });

  t.test(
    'when the same new bundle is uploaded twice at once, then one stores it (201), the other finds it (200)',
    async (t) => {
      const bundle = variant('uploaded-twice-at-once');
      const answers = await Promise.all([author.upload(bundle.archive), author.upload(bundle.archive)]);
      t.same(answers.map((a) => a.statusCode).sort(), [200, 201]);
      t.same(
        answers.map((a) => a.json().revision),
        [bundle.revision, bundle.revision],
      );
      const listed = await author.list('?limit=1000');
      t.equal(listed.revisions.filter((r) => r.revision === bundle.revision).length, 1);
    },
  );

  t.test('when the local build is uploaded, then its id is the one make policies wrote beside it', async (t) => {
    const response = await author.upload(localArchive());
    t.equal(response.statusCode, 200, 'stored already, at start');
    t.equal(response.json().revision, localRevision());
    t.equal(response.json().created_by, 'service:local-build');
    t.equal(response.json().active, true);
  });

  // The files of a new revision (its manifest naming no id), as tar entries to add to or leave out of.
  const entries = () => [...bundleOf(variant('hand-made').files, 'none').files].map(([path, body]) => ({ path, body }));
  const refusals: Array<[string, () => Bundle | { archive: Buffer; revision: null }, string, RegExp]> = [
    [
      'not gzip',
      () => ({ archive: Buffer.from('a tar.gz, honestly'), revision: null }),
      'bundle_invalid',
      /not readable gzip/,
    ],
    [
      'gzip, but not a tar archive',
      () => ({ archive: gzipSync(Buffer.from('x'.repeat(2048))), revision: null }),
      'bundle_invalid',
      /tar archive/,
    ],
    [
      'a gzip that unpacks to more than 128 MiB',
      () => ({ archive: gzipBomb(129), revision: null }),
      'bundle_invalid',
      /unpacks to more than 128 MiB/,
    ],
    [
      'a path stepping out of the bundle',
      () => ({
        archive: tarOf([...entries(), { path: '../../etc/cron.d/x.rego', body: Buffer.from('x') }]),
        revision: null,
      }),
      'bundle_invalid',
      /unusable path: "\.\.\/\.\.\/etc\/cron\.d\/x\.rego"/,
    ],
    [
      'a symbolic link',
      () => ({
        archive: tarOf([...entries(), { path: 'policies/x.rego', type: '2', link: '/etc/passwd' }]),
        revision: null,
      }),
      'bundle_invalid',
      /"policies\/x\.rego" is not a regular file/,
    ],
    [
      'a file held twice',
      () => ({
        archive: tarOf([...entries(), { path: MAIN, body: Buffer.from('package clearance\n') }]),
        revision: null,
      }),
      'bundle_invalid',
      /holds policies\/clearance\/main\.rego twice/,
    ],
    [
      'no policy.wasm',
      () => ({ archive: tarOf(entries().filter((e) => e.path !== 'policy.wasm')), revision: null }),
      'bundle_invalid',
      /no compiled policy/,
    ],
    [
      'no data.json',
      () => ({ archive: tarOf(entries().filter((e) => e.path !== 'data.json')), revision: null }),
      'bundle_invalid',
      /no policy data/,
    ],
    [
      'no .manifest',
      () => ({ archive: tarOf(entries().filter((e) => e.path !== '.manifest')), revision: null }),
      'bundle_invalid',
      /has no \.manifest/,
    ],
    ['a module that is not WebAssembly', unloadableModule, 'bundle_invalid', /not a loadable OPA WebAssembly policy/],
    [
      'built with only the decision entrypoint',
      singleEntrypoint,
      'bundle_invalid',
      /has no entrypoint clearance\/verdict/,
    ],
    [
      'built for another entrypoint contract',
      unsupportedContract,
      'bundle_invalid',
      /"clearance\/v99"; this service serves clearance\/v1, clearance\/v2/,
    ],
    [
      'a manifest naming another revision',
      claimingAnotherRevision,
      'bundle_revision_mismatch',
      /names revision "f{32}", but its files make it [0-9a-f]{32}/,
    ],
    // The reason messages are one of the tables: the module refuses to load before any canary runs.
    [
      'no constant tables (data.json {})',
      emptyData,
      'bundle_invalid',
      /clearance\/messages is undefined: its constant tables \(data\.json\) lack the messages table/,
    ],
    // Bundles that load: their canary decisions refuse them.
    [
      'no validation tables',
      noValidationTables,
      'bundle_canary_failed',
      /the bundle failed its canary decisions: .*the policy returned a malformed decision/,
    ],
    [
      'a clearance/logged_verdict that disagrees with clearance/verdict',
      disagreeingLoggedVerdict,
      'bundle_canary_failed',
      /clearance\/logged_verdict and clearance\/verdict disagree/,
    ],
  ];
  for (const [what, make, code, message] of refusals) {
    t.test(`when a bundle with ${what} is uploaded, then 400 ${code} and nothing is stored`, async (t) => {
      const bundle = make();
      const before = await count();
      const response = await author.upload(bundle.archive);
      t.equal(response.statusCode, 400, response.body);
      t.equal(response.json().error.code, code);
      t.match(response.json().error.message, message);
      t.equal(await count(), before, 'no revision was added');
      if (bundle.revision !== null) {
        t.equal((await author.get(`/v1/policies/${bundle.revision}`)).statusCode, 404, 'its id is not stored');
      }
    });
  }

  t.test('when the body is over 32 MiB, then 413 and nothing is stored', async (t) => {
    const before = await count();
    const response = await author.upload(Buffer.alloc(32 * 1024 * 1024 + 1));
    t.equal(response.statusCode, 413);
    t.equal(response.json().error.code, 'body_too_large');
    t.equal(await count(), before);
  });

  t.test('when the bundle is not sent as application/gzip, then 415 names the Content-Type', async (t) => {
    for (const contentType of ['application/json', 'text/plain']) {
      const response = await author.upload(
        contentType === 'application/json' ? Buffer.from('{}') : localArchive(),
        contentType,
      );
      t.equal(response.statusCode, 415, contentType);
      t.match(response.json().error, { code: 'unsupported_media_type', details: { field: 'Content-Type' } });
    }
    const none = await app.inject({
      method: 'POST',
      url: '/v1/policies',
      headers: { authorization: `Bearer ${token}` },
    });
    t.equal(none.statusCode, 415, 'no body at all');
    const octets = await author.upload(localArchive(), 'application/octet-stream');
    t.equal(octets.statusCode, 200, 'application/octet-stream is a bundle too');
  });

  t.test('when the caller has no policy scope, then every policy route answers 403; without a token 401', async (t) => {
    const other = policyApi(app, await makeToken(database.db, ['admin', 'decide', 'logs']));
    const revision = localRevision();
    const calls = [
      () => other.upload(variant('forbidden').archive),
      () => other.get('/v1/policies'),
      () => other.get(`/v1/policies/${revision}`),
      () => other.get(`/v1/policies/${revision}/source?path=${MAIN}`),
      () => other.activate(revision),
      () => other.rollback(),
      () => other.post(`/v1/policies/${revision}/impact`, {}),
      () => other.get('/v1/policies/shadow'),
      () => other.put('/v1/policies/shadow', { revision }),
      () => other.del('/v1/policies/shadow'),
    ];
    for (const call of calls) {
      const response = await call();
      t.equal(response.statusCode, 403, response.body);
      t.equal(response.json().error.code, 'insufficient_scope');
    }
    const anonymous = await app.inject({ method: 'GET', url: '/v1/policies' });
    t.equal(anonymous.statusCode, 401);
    const stored = (await author.list('?limit=1000')).revisions.map((r) => r.revision);
    t.notOk(stored.includes(variant('forbidden').revision), 'the forbidden upload stored nothing');
  });

  t.test('when a revision is read, then it shows with its Rego sources, each readable as written', async (t) => {
    const bundle = renamedAction();
    await uploaded(author, bundle.archive);
    const response = await author.get(`/v1/policies/${bundle.revision}`);
    t.equal(response.statusCode, 200);
    const detail = response.json() as RevisionView & { sources: string[] };
    t.match(detail, { revision: bundle.revision, contract: 'clearance/v2', active: false, shadow: false });
    const rego = [...bundle.files.keys()].filter((path) => path.endsWith('.rego')).sort();
    t.same(detail.sources, rego);
    t.ok(detail.sources.includes(MAIN));

    const source = await author.get(`/v1/policies/${bundle.revision}/source?path=${encodeURIComponent(MAIN)}`);
    t.equal(source.statusCode, 200);
    t.match(source.headers['content-type'], /^text\/plain/);
    t.equal(source.body, (bundle.files.get(MAIN) as Buffer).toString('utf8'));

    for (const path of ['policies/clearance/nowhere.rego', '.manifest', 'data.json', 'policy.wasm']) {
      const missing = await author.get(`/v1/policies/${bundle.revision}/source?path=${encodeURIComponent(path)}`);
      t.equal(missing.statusCode, 404, path);
      t.equal(missing.json().error.code, 'source_not_found', path);
    }
  });

  t.test('when an unknown or malformed revision is asked for, then 404 revision_not_found or 400', async (t) => {
    const unknown = 'abcdef0123456789abcdef0123456789';
    for (const url of [`/v1/policies/${unknown}`, `/v1/policies/${unknown}/source?path=${MAIN}`]) {
      const response = await author.get(url);
      t.equal(response.statusCode, 404, url);
      t.equal(response.json().error.code, 'revision_not_found', url);
    }
    const malformed = await author.get('/v1/policies/not-a-revision');
    t.equal(malformed.statusCode, 400);
    t.equal(malformed.json().error.code, 'invalid_request');
  });

  t.test('when the list is read a page at a time, then it gives every revision once, newest first', async (t) => {
    for (const label of ['page-a', 'page-b', 'page-c']) await uploaded(author, variant(label).archive);
    const all = (await author.list('?limit=1000')).revisions;
    t.ok(all.length >= 4);
    for (let i = 1; i < all.length; i++) {
      t.ok((all[i - 1] as RevisionView).created_at >= (all[i] as RevisionView).created_at, `entry ${i} is not newer`);
    }
    t.equal(all[0]?.revision, variant('page-c').revision, 'the newest upload first');
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await author.list(`?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      t.ok(page.revisions.length <= 2);
      walked.push(...page.revisions.map((r) => r.revision));
      cursor = page.next_cursor;
    } while (cursor !== null);
    t.same(
      walked,
      all.map((r) => r.revision),
    );
  });

  t.test('when uploads are made, then the audit trail names each with the token that made it', async (t) => {
    const bundle = variant('audited');
    const stored = await uploaded(author, bundle.archive);
    await author.upload(bundle.archive);
    const response = await app.inject({
      method: 'GET',
      url: '/v1/audit?record_type=policy_revision&limit=1000',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    t.equal(response.statusCode, 200);
    const entries = response.json().entries as AuditEntry[];
    const mine = entries.filter((e) => e.record_id === bundle.revision);
    t.equal(mine.length, 1, 'uploading the same bundle again records nothing');
    t.match(mine[0], {
      token_id: tokenId(token),
      record_type: 'policy_revision',
      change: 'create',
      before: null,
      after: { revision: bundle.revision, contract: 'clearance/v2', size_bytes: stored.size_bytes, signed: false },
    });
    const local = entries.filter((e) => e.record_id === localRevision());
    t.match(local, [
      { token_id: 'service:local-build', change: 'activate', after: { revision: localRevision() } },
      { token_id: 'service:local-build', change: 'create', after: { revision: localRevision() } },
    ]);
    const refused = entries.filter((e) => e.record_id === claimingAnotherRevision().revision);
    t.same(
      refused.filter((e) => e.change === 'create' && e.token_id === tokenId(token)),
      [],
      'a refused bundle is not in the trail',
    );
  });

  t.test('when a revision was stored a microsecond before the next, then the pages still hold each once', async (t) => {
    const [older, newer] = [variant('stored-first'), variant('stored-next')];
    await uploaded(author, older.archive);
    await uploaded(author, newer.archive);
    // As two replicas' uploads may commit: within the same millisecond.
    await sql`update policy_revisions
              set created_at = (select created_at from policy_revisions where revision = ${newer.revision}) - interval '1 microsecond'
              where revision = ${older.revision}`.execute(database.db);
    const all = (await author.list('?limit=1000')).revisions.map((r) => r.revision);
    t.same(all.slice(0, 2), [newer.revision, older.revision], 'newest first');
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await author.list(`?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`);
      walked.push(...page.revisions.map((r) => r.revision));
      cursor = page.next_cursor;
    } while (cursor !== null);
    t.same(walked, all, 'the pages hold every revision');
  });
});

t.test('given a verification key, then only bundles signed over exactly their files are stored', async (t) => {
  const keys = rsaKeyPair();
  const { app } = await buildTestApp(t, { adminToken: ADMIN, policyVerifyKey: keys.publicKey });
  const author = policyApi(app, ADMIN);
  const count = async () => (await author.list('?limit=1000')).revisions.length;
  const base = variant('to-sign').files;

  t.test('when the service starts with an unsigned local build, then it is not stored or served', async (t) => {
    t.equal(await count(), 0);
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    t.equal(ready.statusCode, 503);
    t.match(ready.json().error.message, /bundle_signature|signature/);
  });

  t.test('when a bundle signed with the key is uploaded, then it is stored, marked signed', async (t) => {
    const bundle = archiveOf(signed(base, keys.privateKey));
    const response = await author.upload(bundle.archive);
    t.equal(response.statusCode, 201, response.body);
    t.match(response.json(), { revision: variant('to-sign').revision, signed: true });
    const activation = await author.activate(bundle.revision);
    t.equal(activation.statusCode, 200, 'a signed revision can be activated');
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    t.equal(ready.statusCode, 200);
    t.equal(ready.json().policy_revision, bundle.revision, 'and is served');
  });

  t.test('when a bundle opa sign signed with the key is uploaded, then it is stored, marked signed', async (t) => {
    const bundle = archiveOf(signedByOpa(variant('opa-signed'), keys.privateKey));
    const response = await author.upload(bundle.archive);
    t.equal(response.statusCode, 201, response.body);
    t.match(response.json(), { revision: variant('opa-signed').revision, signed: true });
  });

  t.test('when opa verifies a bundle signed here, then it accepts it, and refuses it with another key', async (t) => {
    const bundle = archiveOf(signed(variant('for-opa').files, keys.privateKey));
    const accepted = opaVerifies(bundle, keys.publicKey);
    t.ok(accepted.ok, accepted.output);
    const refused = opaVerifies(bundle, rsaKeyPair().publicKey);
    t.notOk(refused.ok);
    t.match(refused.output, /verif/);
  });

  const tampered = (edit: (files: Files) => void): Bundle => {
    const files = signed(variant('tampered').files, keys.privateKey);
    edit(files);
    return archiveOf(files);
  };
  const forged = (): Bundle => {
    // The public key used as an HMAC secret (algorithm confusion): must never verify.
    const files = new Map(variant('forged').files);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const { payload } = signatureOf(signed(files, keys.privateKey));
    const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`;
    const signature = createHmac('sha256', keys.publicKey).update(body).digest('base64url');
    files.set(SIGNATURES, Buffer.from(JSON.stringify({ signatures: [`${body}.${signature}`] })));
    return archiveOf(files);
  };
  const refusals: Array<[string, () => Bundle, RegExp]> = [
    ['no .signatures.json', () => variant('unsigned'), /has no \.signatures\.json/],
    ['a signature by another key', () => archiveOf(signed(base, rsaKeyPair().privateKey)), /does not verify/],
    [
      'a file changed after signing',
      () => tampered((files) => files.set(MAIN, Buffer.from('package clearance\n'))),
      /policies\/clearance\/main\.rego does not match its signed hash/,
    ],
    [
      'a file added after signing',
      () => tampered((files) => files.set('policies/clearance/extra.rego', Buffer.from('package clearance.extra\n'))),
      /extra\.rego is not covered by the signature/,
    ],
    [
      'a signed file removed',
      () => tampered((files) => files.delete('policies/clearance/users/users_test.rego')),
      /lists files the bundle does not hold: policies\/clearance\/users\/users_test\.rego/,
    ],
    ['an HS256 signature made with the public key as secret', forged, /HMAC algorithm, and a public key is configured/],
  ];
  for (const [what, make, message] of refusals) {
    t.test(
      `when a bundle with ${what} is uploaded, then 400 bundle_signature_invalid and nothing is stored`,
      async (t) => {
        const before = await count();
        const response = await author.upload(make().archive);
        t.equal(response.statusCode, 400, response.body);
        t.equal(response.json().error.code, 'bundle_signature_invalid');
        t.match(response.json().error.message, message);
        t.equal(await count(), before);
      },
    );
  }
});

t.test('given keys of each kind a verification key may be, then a bundle verifies with its own key only', async (t) => {
  const files = variant('key-kinds').files;
  const ec = ecKeyPair();
  const secret = 'an-hmac-secret-of-at-least-32-characters';
  const cases: Array<[string, string, string]> = [
    ['an EC key (ES256)', ec.privateKey, ec.publicKey],
    ['an HMAC secret (HS256)', secret, secret],
  ];
  for (const [what, signingKey, verificationKey] of cases) {
    const bundle = signed(files, signingKey);
    const { alg } = signatureOf(bundle).header;
    t.equal(alg, what.includes('EC') ? 'ES256' : 'HS256', `${what}: signed with ${alg}`);
    t.same(bundleVerifier(verificationKey)(bundle), { signed: true }, `${what}: verifies with its key`);
    t.throws(
      () => bundleVerifier(rsaKeyPair().publicKey)(bundle),
      { code: 'bundle_signature_invalid' },
      `${what}: refused with an RSA key`,
    );
    t.throws(
      () => bundleVerifier(`${secret}-another`)(bundle),
      { code: 'bundle_signature_invalid' },
      `${what}: refused with another secret`,
    );
  }
});
