// The console's policies page in Chromium: upload a candidate bundle (and see a broken one refused),
// read its Rego and its diff from the active revision, run an impact analysis that finds the
// decisions it would flip, activate it through the confirmation, and roll back to the one before.
import t from 'tap';
import { api, openConsole, screenshot, signIn } from '../helpers/browser.ts';
import { bundleOf, localRevision, renamedAction } from '../helpers/policy-bundles.ts';

interface Answer {
  decision_id: string;
  allow: boolean;
  reasons: Array<{ code: string }>;
}

const TABLES = 'policies/clearance/catalogue/tables.rego';
const KEPT = '"client.view": "client",';
const RENAMED = '"client.view.renamed": "client",';

/**
 * The candidate: client.view renamed in the catalogue, so every decision on it is denied as an
 * unknown action. The data the module reads is changed (renamedAction), and the Rego it ships is
 * changed to match, as an author's edit of tables.rego would build.
 */
function candidateBundle() {
  const files = new Map(renamedAction('client.view').files);
  const source = (files.get(TABLES) as Buffer).toString('utf8');
  if (!source.includes(KEPT)) throw new Error(`${TABLES} no longer holds ${KEPT}`);
  files.set(TABLES, Buffer.from(source.replace(KEPT, RENAMED)));
  return bundleOf(files);
}

const short = (revision: string) => revision.slice(0, 12);

t.test('an operator uploads, analyses, activates and rolls back a policy revision', async (t) => {
  // A fresh embedded database and a browser start within the test's time: more than tap's 30 s
  // default when this file is run alone on a busy machine.
  t.setTimeout(180_000);
  const { server, page, pageErrors, dialogs } = await openConsole(t);
  // Every answer the page had other than success, the browser's own /favicon.ico aside (the
  // service has none): the browser logs each as a console error, so they are checked here instead.
  const refusals: string[] = [];
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (response.status() >= 400 && path !== '/favicon.ico')
      refusals.push(`${response.request().method()} ${path} ${response.status()}`);
  });
  const local = localRevision();
  const candidate = candidateBundle();

  // Decisions for the impact analysis to replay: two allowed views (the candidate denies them),
  // a denied one (denied still, for another reason), and one on another action (unchanged).
  const asks = [
    { subject: { id: 'sam' }, action: 'client.view', resource: { type: 'client', id: 'acme' } },
    { subject: { id: 'sam' }, action: 'client.view', resource: { type: 'client', id: 'initech' } },
    { subject: { id: 'sam' }, action: 'client.view', resource: { type: 'client', id: 'globex' } },
    { subject: { id: 'sam' }, action: 'client.edit', resource: { type: 'client', id: 'acme' } },
  ];
  const answers: Answer[] = [];
  for (const ask of asks) answers.push((await (await api(server, 'POST', '/v1/decide', ask)).json()) as Answer);
  t.same(
    answers.map((answer) => answer.allow),
    [true, true, false, answers[3]?.allow],
    'sam may view his clients, not globex',
  );
  const flipped = answers.slice(0, 2);

  const revisions = page.getByRole('table', { name: 'Stored revisions, newest first' });
  const rowOf = (revision: string) => revisions.getByRole('row', { name: new RegExp(short(revision)) });

  await t.test('the list shows the local build, marked active', async (t) => {
    await signIn(page, server.token);
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.waitForURL(/#\/policies/);
    await revisions.waitFor();
    t.equal(await revisions.getByRole('row').count(), 2, 'a header and the one revision');
    t.match(await rowOf(local).textContent(), /active/, 'the local build is active, said in words');
    t.match(await rowOf(local).textContent(), /unsigned/, 'and unsigned');
    t.match(await rowOf(local).textContent(), /service:local-build/, 'registered at start from the local build');
    await screenshot(page, 'policies-list');
  });

  await t.test('a file that is not a bundle is refused plainly', async (t) => {
    await page.getByLabel('Bundle', { exact: true }).setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not a bundle'),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const alert = page.getByRole('region', { name: 'Upload a bundle' }).getByRole('alert');
    await alert.waitFor();
    t.match(await alert.textContent(), /bundle_invalid, HTTP 400/, 'the refusal names its code');
    t.equal(await revisions.getByRole('row').count(), 2, 'nothing was stored');
    await screenshot(page, 'policies-upload-refused');
  });

  await t.test('the candidate is uploaded, stored inactive; again, it is found stored', async (t) => {
    const upload = async () => {
      await page.getByLabel('Bundle', { exact: true }).setInputFiles({
        name: 'bundle.tar.gz',
        mimeType: 'application/gzip',
        buffer: candidate.archive,
      });
      await page.getByRole('button', { name: 'Upload' }).click();
    };
    await upload();
    const stored = page.getByText(`Stored as a new revision ${candidate.revision} (inactive).`);
    await t.resolves(stored.waitFor(), 'the answer names the new revision');
    await rowOf(candidate.revision).waitFor();
    t.match(await rowOf(candidate.revision).textContent(), /stored, inactive/, 'listed, not active');
    t.match(await revisions.getByRole('row').nth(1).textContent(), short(candidate.revision), 'newest first');
    await screenshot(page, 'policies-uploaded');
    await upload();
    await t.resolves(
      page.getByText(`Already stored: revision ${candidate.revision}.`).waitFor(),
      'the same bundle again is the stored revision',
    );
    t.equal(await revisions.getByRole('row').count(), 3, 'still two revisions');
  });

  await t.test('the candidate’s Rego: its files and one file’s text', async (t) => {
    await revisions.getByRole('link', { name: short(candidate.revision) }).click();
    await page.getByRole('heading', { name: `Revision ${short(candidate.revision)}` }).waitFor();
    const files = page.getByRole('navigation', { name: 'Files' });
    await files.getByRole('link', { name: TABLES }).click();
    const source = page.getByRole('region', { name: `Source of ${TABLES}` });
    await source.locator('pre').waitFor();
    t.match(await source.locator('pre').textContent(), RENAMED, 'the file as uploaded, in a pre');
    await screenshot(page, 'policies-source');
  });

  await t.test('compared with the active revision: one file changed, its lines marked', async (t) => {
    await page.getByLabel('Compare with').selectOption(local);
    const summary = page.getByText(/1 changed, 0 added, 0 removed, \d+ unchanged\./);
    await t.resolves(summary.waitFor(), 'one file changed of the same files');
    const files = page.getByRole('navigation', { name: 'Files' });
    t.match(await files.getByRole('listitem').filter({ hasText: TABLES }).textContent(), /changed/);
    t.match(await files.getByRole('listitem').filter({ hasText: 'main.rego' }).textContent(), /unchanged/);
    const diff = page.getByRole('region', { name: `Changes to ${TABLES}` });
    const text = (await diff.locator('pre').textContent()) ?? '';
    t.match(text, /9\s*−\s*"client\.view": "client",/, 'the old line 9, marked −');
    t.match(text, /9\s*\+\s*"client\.view\.renamed": "client",/, 'the new line 9, marked +');
    t.match(text, /unchanged lines/, 'the rest of the file left out');
    await screenshot(page, 'policies-diff');
  });

  await t.test('impact analysis counts the flips and links their decisions', async (t) => {
    await page.getByRole('button', { name: 'Run impact analysis' }).click();
    const report = page.getByRole('region', { name: 'Impact report' });
    await report.waitFor({ timeout: 30_000 });
    const count = async (name: string) =>
      (await report
        .getByRole('term')
        .filter({ hasText: new RegExp(`^${name}$`) })
        .locator('+ dd')
        .textContent()) ?? '';
    t.equal(await count('Replayed'), '4', 'the four decisions replayed');
    t.equal(await count('Allow → deny'), '2', 'the two allowed views would be denied');
    t.equal(await count('Reasons changed'), '1', 'the denied view, denied for another reason');
    t.equal(await count('Unchanged'), '1', 'the edit unchanged');
    t.equal(await count('Deny → allow'), '0');
    for (const answer of flipped) {
      const link = report.getByRole('link', { name: answer.decision_id });
      t.equal(await link.getAttribute('href'), `#/decisions/${answer.decision_id}`, 'a sample links its decision');
      t.match(
        await report.getByRole('row').filter({ hasText: answer.decision_id }).textContent(),
        /allow → deny.*allowed.*denied.*unknown_action/,
        'allowed then, denied as an unknown action now',
      );
    }
    await screenshot(page, 'policies-impact');
  });

  await t.test('activation asks first, naming the revision; cancel changes nothing', async (t) => {
    await page.getByRole('button', { name: 'Activate', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Activate this revision?' });
    await dialog.waitFor();
    t.match(
      await dialog.textContent(),
      `Activate revision ${short(candidate.revision)}…? Every replica will serve it within seconds.`,
    );
    t.equal(
      await page.evaluate<string>('document.activeElement?.textContent ?? ""'),
      'Cancel',
      'the focus is on Cancel: Enter alone changes nothing',
    );
    await screenshot(page, 'policies-activate-confirm');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    t.match(await rowOf(local).textContent(), /active/, 'the local build is still active');
    const focused = () => page.evaluate<string>('document.activeElement?.textContent ?? ""');
    t.equal(await focused(), 'Activate', 'the focus is back on Activate, where it was');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    t.equal(await focused(), 'Activate', 'opened from the keyboard and cancelled: the focus is back on Activate');
  });

  await t.test('activated: it is marked active, and decisions are made by it', async (t) => {
    await page.getByRole('button', { name: 'Activate', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Activate revision' }).click();
    await t.resolves(
      page
        .getByRole('status')
        .filter({ hasText: `Revision ${short(candidate.revision)} is active` })
        .waitFor(),
      'the page says so',
    );
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await rowOf(candidate.revision).getByText('active', { exact: true }).waitFor();
    t.match(
      await page.evaluate<string>('document.activeElement?.textContent ?? ""'),
      `Revision ${short(candidate.revision)} is active`,
      'the focus is on what was done, not lost with the Activate button now disabled',
    );
    t.match(await rowOf(local).textContent(), /previous \(a rollback returns to it\)/, 'the one before is marked');
    t.notMatch(await rowOf(local).textContent(), /\bactive\b/, 'and no longer active');
    t.ok(await page.getByRole('button', { name: 'Activate', exact: true }).isDisabled(), 'the active one cannot be');
    const now = (await (await api(server, 'POST', '/v1/decide', asks[0])).json()) as Answer;
    t.same(
      [now.allow, now.reasons.map((reason) => reason.code)],
      [false, ['unknown_action']],
      'sam viewing acme is now denied',
    );
    await screenshot(page, 'policies-activated');
  });

  await t.test('roll back asks first, naming both revisions, and the earlier one is active again', async (t) => {
    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back?' });
    await dialog.waitFor();
    t.match(
      await dialog.textContent(),
      `Roll back from revision ${short(candidate.revision)} (active) to revision ${short(local)}, the one active before it?`,
    );
    await screenshot(page, 'policies-rollback-confirm');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await t.resolves(
      page
        .getByRole('status')
        .filter({ hasText: `Rolled back: revision ${short(local)} is active again` })
        .waitFor(),
      'the page says so',
    );
    await rowOf(local).getByText('active', { exact: true }).waitFor();
    t.match(
      await page.evaluate<string>('document.activeElement?.textContent ?? ""'),
      `Rolled back: revision ${short(local)} is active again`,
      'confirmed: the focus is on what was done (there is nothing left to roll back to)',
    );
    t.match(await rowOf(candidate.revision).textContent(), /stored, inactive/, 'the candidate is inactive again');
    const listed = (await (await api(server, 'GET', '/v1/policies')).json()) as { active: { revision: string } };
    t.equal(listed.active.revision, local, 'the API agrees');
    await screenshot(page, 'policies-rolled-back');
  });

  await t.test('the candidate evaluated as shadow, then not', async (t) => {
    await page.getByRole('button', { name: 'Evaluate as shadow' }).click();
    await rowOf(candidate.revision).getByText('shadow', { exact: true }).waitFor();
    t.match(
      await page.getByRole('region', { name: 'Active revision' }).textContent(),
      `Shadow: ${short(candidate.revision)} evaluates every decision too`,
      'the summary names the shadow',
    );
    await screenshot(page, 'policies-shadow');
    await page.getByRole('button', { name: 'Stop shadow evaluation' }).click();
    await page.getByRole('button', { name: 'Evaluate as shadow' }).waitFor();
    t.match(await rowOf(candidate.revision).textContent(), /stored, inactive/, 'no longer the shadow');
    const shadow = (await (await api(server, 'GET', '/v1/policies/shadow')).json()) as { revision: string | null };
    t.equal(shadow.revision, null, 'the API agrees');
  });

  await t.test('a phone-width screen still reads', async (t) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByLabel('Compare with').selectOption('');
    await page.getByRole('region', { name: /^Source of / }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    t.ok(overflow <= 1, `nothing runs off the side (${overflow} px)`);
    await screenshot(page, 'policies-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  t.same(dialogs, [], 'no alert or confirm was opened (the confirmations are the page’s own)');
  t.same(refusals, ['POST /v1/policies 400'], 'the one refusal was of the file that is not a bundle');
  t.same(
    pageErrors.filter((error) => !error.startsWith('Failed to load resource')),
    [],
    'the page raised no script error',
  );
});
