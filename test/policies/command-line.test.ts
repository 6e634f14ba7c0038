// The policy authors' command line (./clearance policy …) driven end to end against a listening
// service: push, list, impact, shadow, activate, rollback, diff, and how it reports a refusal.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ADMIN_TOKEN, contextApp } from '../helpers/context.ts';
import { bundleOf, localRevision, renamedAction } from '../helpers/policy-bundles.ts';
import { eventually } from '../helpers/wait.ts';

const run = promisify(execFile);
const LOCAL = localRevision();

/** The renamed-action candidate (every client.view decision becomes unknown_action), with a comment added to its Rego. */
function renamedViewBundle(): { file: string; revision: string } {
  const files = renamedAction().files;
  const rego = 'policies/clearance/catalogue/tables.rego';
  files.set(rego, Buffer.from(`${(files.get(rego) as Buffer).toString('utf8')}\n# client.view is renamed now\n`));
  const { archive, revision } = bundleOf(files);
  const file = join(mkdtempSync(join(tmpdir(), 'clearance-cli-')), 'candidate.tar.gz');
  writeFileSync(file, archive);
  return { file, revision };
}

t.test('the command line drives the author loop against a running service', async (t) => {
  const { app, admin } = await contextApp(t);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const env = { ...process.env, CLEARANCE_URL: address, CLEARANCE_TOKEN: ADMIN_TOKEN };
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run('./clearance', ['policy', ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  // Some logged decisions to replay: the top admin views a client (allowed), a standard user does not.
  await admin.put('/v1/accounts/p1', { kind: 'practice', name: 'P1' });
  await admin.put('/v1/accounts/p1/users/boss', { name: 'Boss', role: 'practice_admin' });
  await admin.put('/v1/accounts/p1/users/sam', { name: 'Sam', role: 'standard' });
  await admin.put('/v1/accounts/p1/clients/acme', { name: 'Acme', ledger: 'none' });
  for (const subject of ['boss', 'boss', 'sam']) {
    const answer = await admin.post('/v1/decide', {
      subject: { id: subject },
      action: 'client.view',
      resource: { type: 'client', id: 'acme' },
    });
    t.equal(answer.statusCode, 200);
  }
  await eventually(async () => (await admin.get('/v1/decisions?limit=10')).json().decisions.length === 3);

  const candidate = renamedViewBundle();
  const pushed = await cli('push', candidate.file);
  t.equal(pushed.code, 0, pushed.stderr);
  t.match(pushed.stdout, `uploaded: ${candidate.revision} (inactive)`);
  t.match((await cli('push', candidate.file)).stdout, `already stored: ${candidate.revision}`);

  const listed = await cli('list');
  t.match(listed.stdout, new RegExp(`^\\*\\s+${LOCAL}`, 'm'), 'the local build is marked active');
  t.match(listed.stdout, candidate.revision);

  const impact = await cli('impact', candidate.revision);
  t.equal(impact.code, 0, impact.stderr);
  t.match(impact.stdout, /impact of revision \w+ on 3 logged decisions/);
  t.match(impact.stdout, /allow → deny\s+2\b/);
  t.match(impact.stdout, /reasons changed\s+1\b/);
  t.match(impact.stdout, /client\.view\s+3\s+2\s+0\s+1/);

  t.match((await cli('shadow', 'set', candidate.revision)).stdout, `shadow: ${candidate.revision}`);
  t.match((await cli('shadow', 'clear')).stdout, 'no shadow revision');

  t.match((await cli('activate', candidate.revision)).stdout, `activated ${candidate.revision}`);
  const after = await admin.post('/v1/decide', {
    subject: { id: 'boss' },
    action: 'client.view',
    resource: { type: 'client', id: 'acme' },
  });
  t.same([after.json().policy_revision, after.json().reasons[0].code], [candidate.revision, 'unknown_action']);

  const diff = await cli('diff', LOCAL, candidate.revision);
  t.equal(diff.code, 0);
  t.match(diff.stdout, '+# client.view is renamed now');

  t.match((await cli('rollback')).stdout, `rolled back to ${LOCAL}`);
  const refused = await cli('rollback');
  t.equal(refused.code, 1, 'a refusal exits 1');
  t.match(refused.stderr, 'no_previous_revision');

  const unknown = await cli('activate', '0'.repeat(32));
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'revision_not_found');
});

t.test('without a token, the command line says what to set', async (t) => {
  const env = { ...process.env, CLEARANCE_TOKEN: '', CLEARANCE_ADMIN_TOKEN: '' };
  const failed = await run('./clearance', ['policy', 'list'], { env }).catch(
    (error: { code: number; stderr: string }) => error,
  );
  t.equal((failed as { code: number }).code, 1);
  t.match((failed as { stderr: string }).stderr, 'set CLEARANCE_TOKEN');
});
