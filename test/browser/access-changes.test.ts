// The console's access changes (the audit trail) in Chromium: a user given a client by a named
// token is found with the User and Client filters, with the token that did it and the change's
// before and after; filters live in the URL; pages of entries; a hostile name shows as text.
import t from 'tap';
import { api, openConsole, screenshot, signIn } from '../helpers/browser.ts';
import { watchPageErrors } from '../helpers/page-errors.ts';

const PRACTICE = 'demo-practice';
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const HOSTILE_ID = 'hostile-user';
const BOT = 'onboarding-bot';

t.test('an operator finds who gave a user access to a client', async (t) => {
  const { server, page, dialogs } = await openConsole(t);
  const pageErrors = watchPageErrors(page);

  // A named token gives sam globex (sam had acme and initech); then the admin token takes it away.
  const made = await api(server, 'POST', '/v1/tokens', { name: BOT, scopes: ['admin'] });
  t.equal(made.status, 201, 'a token named onboarding-bot is made');
  const bot = (await made.json()) as { id: string; token: string };
  const given = await fetch(`${server.base}/v1/accounts/${PRACTICE}/users/sam/allocations`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${bot.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_ids: ['acme', 'initech', 'globex'] }),
  });
  t.equal(given.status, 200, 'the bot allocates globex to sam');
  const taken = await api(server, 'PUT', `/v1/accounts/${PRACTICE}/users/sam/allocations`, {
    client_ids: ['acme', 'initech'],
  });
  t.equal(taken.status, 200, 'the admin token takes it back');
  const hostile = await api(server, 'PUT', `/v1/accounts/${PRACTICE}/users/${HOSTILE_ID}`, {
    name: HOSTILE_NAME,
    role: 'standard',
  });
  t.ok(hostile.ok, `a user named with markup is written (${hostile.status})`);

  await signIn(page, server.token);
  /** Clear filters, and wait for the page to show the whole trail (the form is reset by then). */
  const clearFilters = async () => {
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL((url) => !url.hash.includes('?'));
    await page.getByRole('table', { name: 'All changes, newest first' }).waitFor();
  };
  await page.getByRole('link', { name: 'Access changes' }).click();
  await page.getByRole('heading', { name: 'Access changes' }).waitFor();

  await t.test('the User and Client filters answer "who gave sam access to globex"', async (t) => {
    await page.getByLabel('User', { exact: true }).fill('sam');
    await page.getByLabel('Client', { exact: true }).fill('globex');
    await page.getByLabel('Client', { exact: true }).press('Enter');
    await page.waitForURL(/user_id=sam/);
    t.match(page.url(), /client_id=globex/, 'both filters are in the URL');
    const changes = page.getByRole('table', {
      name: 'Changes to the access of user sam to client globex, newest first',
    });
    await changes.waitFor();
    // Each entry's row holds its before/after table; the rows of those tables hold none.
    const entries = changes.getByRole('row').filter({ has: page.getByRole('table') });
    t.equal(await entries.count(), 2, 'two changes: given, then taken back');

    const removal = entries.nth(0);
    t.match(await removal.getByRole('cell').nth(4).textContent(), /^delete$/, 'newest first: the removal');
    t.match(await removal.textContent(), /CLEARANCE_ADMIN_TOKEN/, 'made by the admin token');

    const grant = entries.nth(1);
    t.match(await grant.getByRole('cell').nth(4).textContent(), /^create$/, 'then the grant');
    t.match(await grant.getByRole('cell').nth(1).textContent(), BOT, 'the token that gave it, by name');
    t.match(await grant.getByRole('cell').nth(1).textContent(), bot.id, 'and by id');
    t.match(await grant.getByRole('cell').nth(3).textContent(), /allocation\s+sam\/globex/, 'the record: the pair');

    const diff = grant.getByRole('table', { name: 'Before and after: allocation sam/globex' });
    const userRow = diff.getByRole('row').filter({ hasText: 'user_id' });
    t.same(
      await userRow.getByRole('cell').allTextContents(),
      ['(none)', 'sam', 'added'],
      'user_id: nothing before, sam after, marked added in words',
    );
    const clientRow = diff.getByRole('row').filter({ hasText: 'client_id' });
    t.same(await clientRow.getByRole('cell').allTextContents(), ['(none)', 'globex', 'added']);
    const removed = removal.getByRole('table', { name: 'Before and after: allocation sam/globex' });
    t.same(
      await removed.getByRole('row').filter({ hasText: 'client_id' }).getByRole('cell').allTextContents(),
      ['globex', '(none)', 'removed'],
      'the removal: globex before, nothing after, marked removed',
    );
    await screenshot(page, 'access-changes');
  });

  await t.test('the filters are kept in the URL', async (t) => {
    await page.reload();
    await page.getByRole('table', { name: /Changes to the access of user sam/ }).waitFor();
    t.equal(
      await page.getByLabel('User', { exact: true }).inputValue(),
      'sam',
      'the User field is filled from the URL',
    );
    t.equal(await page.getByLabel('Client', { exact: true }).inputValue(), 'globex', 'and the Client field');
  });

  await t.test('an Until before the changes leaves none', async (t) => {
    await page.getByLabel('Until', { exact: true }).fill('2020-01-01T00:00:00');
    await page.getByLabel('Until', { exact: true }).press('Enter');
    await page.waitForURL(/until=2020/);
    await t.resolves(page.getByText('No changes match.').waitFor(), 'nothing before 2020');
    await clearFilters();
    t.equal(await page.getByLabel('User', { exact: true }).inputValue(), '', 'clearing empties the form');
  });

  await t.test('an update lists only what changed, unless unchanged fields are asked for', async (t) => {
    const patched = await api(server, 'PATCH', `/v1/accounts/${PRACTICE}/users/sam`, {
      permissions: { add_clients: true },
    });
    t.equal(patched.status, 200, 'sam may now add clients');
    await page.getByLabel('Record type', { exact: true }).selectOption({ label: 'user' });
    await page.getByLabel('Record', { exact: true }).fill('sam');
    await page.getByLabel('Record', { exact: true }).press('Enter');
    await page.waitForURL(/record_type=user/);
    await page.getByRole('table', { name: 'Changes for record type user, record sam, newest first' }).waitFor();
    const diff = page.getByRole('table', { name: 'Before and after: user sam' });
    await diff.waitFor();
    const permission = diff.getByRole('row').filter({ hasText: 'permissions.add_clients' });
    t.same(await permission.getByRole('cell').allTextContents(), ['false', 'true', 'changed'], 'the nested field');
    t.equal(await diff.getByRole('row').filter({ hasText: 'role' }).count(), 0, 'the role did not change: not listed');
    await page.getByLabel('Show unchanged fields').check();
    const role = diff.getByRole('row').filter({ hasText: /^role/ });
    t.same(await role.getByRole('cell').allTextContents(), ['standard', 'standard', 'unchanged'], 'now listed');
    await page.getByLabel('Show unchanged fields').uncheck();
  });

  await t.test('a user named with markup shows as text in the diff and runs nothing', async (t) => {
    await clearFilters();
    await page.getByLabel('User', { exact: true }).fill(HOSTILE_ID);
    await page.getByLabel('User', { exact: true }).press('Enter');
    await page.waitForURL(new RegExp(`user_id=${HOSTILE_ID}`));
    await page.getByRole('table', { name: `Changes for user ${HOSTILE_ID}, newest first` }).waitFor();
    const diff = page.getByRole('table', { name: `Before and after: user ${HOSTILE_ID}` });
    await diff.waitFor();
    const name = diff.getByRole('row').filter({ hasText: /^name/ });
    t.same(await name.getByRole('cell').allTextContents(), ['(none)', HOSTILE_NAME, 'added'], 'the markup as text');
    t.equal(await page.locator('main img').count(), 0, 'no image element was made from it');
    await screenshot(page, 'access-changes-hostile');
    t.same(dialogs, [], 'no alert ran');
  });

  await t.test('many changes come a page at a time', async (t) => {
    const records = Array.from({ length: 55 }, (_, i) => ({
      id: `paged-${String(i).padStart(2, '0')}`,
      name: `P${i}`,
    }));
    const synced = await api(server, 'POST', `/v1/accounts/${PRACTICE}/sync/clients`, { records });
    t.equal(synced.status, 200, '55 clients are made in one request');
    await clearFilters();
    await page.getByLabel('Record type', { exact: true }).selectOption({ label: 'client' });
    await page.getByLabel('Record', { exact: true }).press('Enter');
    await page.waitForURL(/record_type=client/);
    await page.getByRole('table', { name: 'Changes for record type client, newest first' }).waitFor();
    const diffs = page.getByRole('table', { name: /^Before and after: client / });
    t.equal(await diffs.count(), 50, 'the first page holds 50');
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/cursor=/);
    await page.getByRole('link', { name: 'First page' }).waitFor();
    t.equal(await diffs.count(), 5, 'the next page the other 5');
    t.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0, 'and no page after it');
  });

  await t.test('a phone-width screen still reads', async (t) => {
    await clearFilters();
    await page.getByLabel('User', { exact: true }).fill('sam');
    await page.getByLabel('User', { exact: true }).press('Enter');
    await page.waitForURL(/user_id=sam/);
    await page.getByRole('table', { name: 'Changes for user sam, newest first' }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('table').first().waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    t.ok(overflow <= 1, `nothing runs off the side (${overflow} px)`);
    await screenshot(page, 'access-changes-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  t.same(pageErrors, [], 'the page raised no script error');
});
