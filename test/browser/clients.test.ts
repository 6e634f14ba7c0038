// The console's clients in Chromium: pick the demo practice, open a client, see who has access to
// it for an action (the users allowed, the greyed-out ones with the policy's reasons), follow a
// user to the decision log, and see that the question was itself logged.
import t from 'tap';
import { api, openConsole, screenshot, signIn } from '../helpers/browser.ts';
import { watchPageErrors } from '../helpers/page-errors.ts';

const PRACTICE = 'demo-practice';
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

t.test('an operator sees who has access to a client, and why not', async (t) => {
  const { server, page, dialogs } = await openConsole(t);
  const pageErrors = watchPageErrors(page);
  const hostile = await api(server, 'PUT', `/v1/accounts/${PRACTICE}/users/hostile-user`, {
    name: HOSTILE_NAME,
    role: 'standard',
  });
  t.ok(hostile.ok, `a user named with markup is written (${hostile.status})`);
  await signIn(page, server.token);

  await t.test('the demo practice lists its clients', async (t) => {
    await page.getByRole('link', { name: 'Clients' }).click();
    const clients = page.getByRole('table', { name: `Clients of ${PRACTICE}, by id` });
    await clients.waitFor();
    const account = page.getByLabel('Account', { exact: true });
    t.equal(await account.inputValue(), PRACTICE, 'the practice is chosen');
    t.same(
      await account.getByRole('option').allTextContents(),
      [`Demo Practice (${PRACTICE})`],
      'only practice accounts are offered: they alone have clients',
    );
    for (const name of ['Acme Ltd', 'Globex', 'Initech', 'Umbrella', 'Hooli']) {
      t.ok(await clients.getByRole('link', { name }).isVisible(), `${name} is listed`);
    }
    await screenshot(page, 'clients');
  });

  await t.test('opening Globex shows its facts and who may view it', async (t) => {
    await page.getByRole('link', { name: 'Globex' }).click();
    await page.waitForURL(/#\/clients\/demo-practice\/globex/);
    await page.getByRole('heading', { name: 'Globex' }).waitFor();
    const facts = page.getByRole('region', { name: 'Facts' });
    t.match(await facts.textContent(), /Ledger\s*xero/, 'its ledger');
    t.equal(
      await page.getByLabel('Action', { exact: true }).inputValue(),
      'client.view',
      'the action is client.view at first',
    );

    const allowed = page.getByRole('table', { name: 'Allowed to client.view', exact: true });
    await allowed.waitFor();
    const allowedIds = await allowed
      .getByRole('row')
      .filter({ hasNot: page.getByRole('columnheader') })
      .count();
    t.equal(allowedIds, 3, 'three users may view globex (the README’s example)');
    for (const name of ['Ada (practice admin)', 'Cal (client admin)', 'Max (standard, Xero permissions + all)']) {
      t.ok(await allowed.getByRole('cell', { name, exact: true }).isVisible(), `${name} may`);
    }

    const denied = page.getByRole('table', { name: 'Not allowed to client.view (greyed out), with why', exact: true });
    const lee = denied.getByRole('row').filter({ hasText: 'Lee (standard, Xero permissions + selected)' });
    const why = lee.getByRole('list', { name: 'Why lee may not' });
    t.match(await why.textContent(), /ledger_access_required/, 'lee is greyed out: no access to globex in Xero');
    t.match(await why.textContent(), /ledger_access_required — \S/, 'with the message the answer carries');
    const sam = await denied.getByRole('list', { name: 'Why sam may not' }).textContent();
    t.match(sam, /client_not_allocated/, 'sam: globex is not allocated to him');
    const sus = await denied.getByRole('list', { name: 'Why sus may not' }).textContent();
    t.match(sus, /user_suspended/, 'sus: suspended');
    const eve = await denied.getByRole('list', { name: 'Why eve may not' }).textContent();
    t.match(eve, /role_not_permitted/, 'eve: an expense approver');
    t.ok(
      await denied.getByRole('cell', { name: HOSTILE_NAME, exact: true }).isVisible(),
      'a name holding markup is shown as text',
    );
    t.equal(await page.locator('main img').count(), 0, 'and made no image');
    t.ok(await page.getByText('the query is written to the decision log').isVisible(), 'the page says it is logged');
    await screenshot(page, 'client');
  });

  await t.test('another action asks again, and the question is in the decision log', async (t) => {
    await page.goto(`${server.base}/console/#/clients/${PRACTICE}/acme`);
    await page.getByRole('table', { name: 'Allowed to client.view', exact: true }).waitFor();
    await page.getByLabel('Action', { exact: true }).selectOption('time.push');
    await page.waitForURL(/action=time\.push/);
    const denied = page.getByRole('table', { name: 'Not allowed to time.push (greyed out), with why', exact: true });
    await denied.waitFor();
    t.match(
      await denied.getByRole('list', { name: 'Why cal may not' }).textContent(),
      /xpm_link_required/,
      'cal may view acme but not push time: no practice-manager link',
    );
    const allowed = page.getByRole('table', { name: 'Allowed to time.push', exact: true });
    t.ok(await allowed.getByRole('cell', { name: 'lee', exact: true }).isVisible(), 'lee, linked and allowed, may');

    await page.getByRole('link', { name: 'This query in the decision log' }).click();
    await page.waitForURL(/#\/decisions\/[0-9a-f-]{36}/);
    await page.getByText('A list:').waitFor();
    t.match(await page.getByRole('main').textContent(), /time\.push/, 'the logged query is about time.push');
    await page.goBack();
    await denied.waitFor();
  });

  await t.test('a user links to the decision log for that user and client', async (t) => {
    const decided = await api(server, 'POST', '/v1/decide', {
      subject: { id: 'cal' },
      action: 'time.push',
      resource: { type: 'client', id: 'acme' },
    });
    const answer = (await decided.json()) as { decision_id: string };
    await page.getByRole('link', { name: 'Decision log of cal on acme' }).click();
    await page.waitForURL(/#\/decisions\?/);
    t.match(page.url(), /subject_id=cal/, 'filtered by the user');
    t.match(page.url(), /resource_id=acme/, 'and by the client');
    await t.resolves(
      page.getByRole('link', { name: `Decision ${answer.decision_id}` }).waitFor(),
      'the decision about cal and acme is listed',
    );
  });

  await t.test('a phone-width screen still reads', async (t) => {
    await page.goto(`${server.base}/console/#/clients/${PRACTICE}/globex`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('table', { name: 'Not allowed to client.view (greyed out), with why', exact: true }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    t.ok(overflow <= 1, `nothing runs off the side (${overflow} px)`);
    await screenshot(page, 'client-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  t.same(dialogs, [], 'no alert ran');
  t.same(pageErrors, [], 'the page raised no script error');
});
