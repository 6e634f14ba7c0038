// The console's decision log in Chromium: sign in, filter, open a decision (its reason and the
// facts it was decided on), replay it, export the filtered set as CSV, follow the live tail, sign
// out; hostile values written through the facts API show as text and run nothing.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Route } from 'playwright-core';
import t from 'tap';
import { api, openConsole, screenshot, signIn } from '../helpers/browser.ts';

interface Answer {
  decision_id: string;
  allow: boolean;
}

/** An attribute from another system holding markup and a script. */
const HOSTILE = '<img src=x onerror=alert(1)><script>alert("attribute")</script>';

t.test('an operator reviews decisions in the console', async (t) => {
  const { server, context, page, pageErrors, dialogs } = await openConsole(t);
  const decide = async (subject: string): Promise<Answer> =>
    (await (
      await api(server, 'POST', '/v1/decide', {
        subject: { id: subject },
        action: 'client.view',
        resource: { type: 'client', id: 'globex' },
      })
    ).json()) as Answer;

  const asks = [
    { subject: { id: 'sam' }, action: 'client.view', resource: { type: 'client', id: 'globex' } },
    { subject: { id: 'sam' }, action: 'client.view', resource: { type: 'client', id: 'acme' } },
    { subject: { id: 'lee' }, action: 'client.view', resource: { type: 'client', id: 'globex' } },
    // The policy reads a proposed role, so the log keeps it (attributes it does not read are masked).
    {
      subject: { id: 'ada' },
      action: 'user.update',
      resource: { type: 'user', id: 'sam', attributes: { role: HOSTILE } },
    },
  ];
  const answers: Answer[] = [];
  for (const ask of asks) answers.push((await (await api(server, 'POST', '/v1/decide', ask)).json()) as Answer);
  t.equal(answers[0]?.allow, false, 'sam may not view globex (the README’s example)');

  await t.test('sign in with the token', async (t) => {
    await screenshot(page, 'sign-in');
    t.equal(await page.getByLabel('Token').getAttribute('type'), 'password', 'the token field hides what is typed');
    await signIn(page, server.token);
    t.ok(await page.getByText('Signed in as CLEARANCE_ADMIN_TOKEN').isVisible(), 'the page names the token');
    const stored = await page.evaluate(() => sessionStorage.getItem('clearance.token'));
    t.equal(stored, server.token, 'the token is kept in sessionStorage');
    t.notMatch(page.url(), server.token, 'never in the URL');
    t.same(await page.context().cookies(), [], 'nor in a cookie');
  });

  await t.test('filter by subject and by denied', async (t) => {
    await page.getByRole('link', { name: 'Decisions', exact: true }).click();
    await page.getByRole('table').waitFor();
    await page.getByLabel('Subject').fill('sam');
    await page.getByLabel('Subject').press('Enter');
    await page.waitForURL(/subject_id=sam/);
    await page.getByLabel('Answer').selectOption({ label: 'denied' });
    await page.waitForURL(/allow=false/);
    const rows = page.getByRole('table').getByRole('row');
    await t.resolves(rows.nth(1).getByText('globex').waitFor(), 'the denied decision about globex is listed');
    t.equal(await rows.count(), 2, 'one header and the one decision sam was denied');
    t.ok(await rows.nth(1).getByText('denied').isVisible(), 'shown as denied');
    await screenshot(page, 'decisions-filtered');
  });

  await t.test('open the decision: its reason and the facts it was decided on', async (t) => {
    await page.getByRole('table').getByRole('row').nth(1).getByRole('cell').nth(2).click();
    await page.waitForURL(new RegExp(`#/decisions/${answers[0]?.decision_id}`));
    const reasons = page.getByRole('list', { name: 'Reasons' });
    await reasons.waitFor();
    t.match(await reasons.textContent(), /no_client_access|client/, 'the reason code is listed with its message');
    const input = page.getByRole('region', { name: 'Input the policy saw' });
    t.match(await input.textContent(), /globex/, 'the input shows the resource');
    t.match(await input.textContent(), /facts|subject/, 'and the facts it was decided on');
    t.ok(await page.getByText('CLEARANCE_ADMIN_TOKEN').first().isVisible(), 'who asked');
    await screenshot(page, 'decision');
  });

  await t.test('replay it on the active revision', async (t) => {
    await page.getByRole('button', { name: 'Replay on the active revision' }).click();
    const status = page.getByText('Same answer today.');
    await t.resolves(status.waitFor(), 'the replay says today’s answer is the same');
    await screenshot(page, 'decision-replayed');
  });

  await t.test('export the filtered set as CSV', async (t) => {
    await page.goBack();
    await page.waitForURL(/subject_id=sam&allow=false/);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const text = await readFile(await download.path(), 'utf8');
    const lines = text.trim().split(/\r?\n/);
    t.match(lines[0], /^decision_id,decided_at,/, 'a header row');
    t.equal(lines.length, 2, 'one row: the one decision the filters match');
    t.match(lines[1], answers[0]?.decision_id ?? '', 'the decision sam was denied');
    t.match(
      lines[1],
      ',sam,client.view,client,globex,false,client_not_allocated,',
      'with its subject, action, resource, answer and reason',
    );
    t.match(download.suggestedFilename(), /\.csv$/, 'saved as a .csv file');
  });

  await t.test('an attribute holding markup shows as text and runs nothing', async (t) => {
    await page.getByLabel('Subject').fill('ada');
    await page.getByLabel('Answer').selectOption({ label: 'any' });
    await page.getByLabel('Subject').press('Enter');
    await page.getByRole('link', { name: `Decision ${answers[3]?.decision_id}` }).click();
    const input = page.getByRole('region', { name: 'Input the policy saw' });
    await input.waitFor();
    t.match(await input.textContent(), HOSTILE, 'the markup is shown as the text it is');
    t.equal(await page.locator('main img').count(), 0, 'no image element was made from it');
    t.equal(await page.locator('main script').count(), 0, 'nor a script element');
    await screenshot(page, 'decision-hostile');
    t.same(dialogs, [], 'no alert ran');
  });

  await t.test('the live tail shows each new decision once, also one committed out of order', async (t) => {
    await page.getByRole('link', { name: 'Decisions', exact: true }).click();
    await page.getByLabel('Subject').fill('max');
    await page.getByLabel('Subject').press('Enter');
    await page.waitForURL(/subject_id=max/);
    await page.getByLabel('Live tail').check();
    const tail = page.getByRole('region', { name: 'New decisions' });
    await tail.getByText('No decisions match.').waitFor();
    const made = await decide('max');
    const link = tail.getByRole('link', { name: `Decision ${made.decision_id}` });
    await t.resolves(link.waitFor({ timeout: 15_000 }), 'the new decision appears in the tail');
    t.equal(
      await link.getAttribute('aria-label'),
      `${await link.textContent()}: decision ${made.decision_id}`,
      'the link is named by the time it shows, then the id',
    );
    // An entry that commits after a newer one (another worker's batch, a replica): decided 5 s
    // before the one shown (within the tail's 15 s overlap), written now.
    const late = randomUUID();
    await server.query(
      `insert into decision_log select (jsonb_populate_record(null::decision_log, to_jsonb(d) ||
         jsonb_build_object('decision_id', $2::text, 'decided_at', d.decided_at - interval '5 seconds'))).*
       from decision_log d where d.decision_id = $1`,
      [made.decision_id, late],
    );
    const lateLink = tail.getByRole('link', { name: `Decision ${late}` });
    await t.resolves(lateLink.waitFor({ timeout: 15_000 }), 'an entry committed out of order appears too');
    await page.waitForTimeout(4500);
    t.equal(await link.count(), 1, 'and each appears once, after more polls');
    t.equal(await lateLink.count(), 1);
    const order = await tail
      .getByRole('link', { name: /decision [0-9a-f-]{36}$/ })
      .evaluateAll((links) => links.map((a) => a.getAttribute('aria-label')?.slice(-36)));
    t.same(order, [made.decision_id, late], 'newest first');
    await page.getByLabel('Live tail').uncheck();
  });

  await t.test('filters changed while a poll is under way: the new filters’ tail misses nothing', async (t) => {
    const made = await decide('kim');
    await page.getByLabel('Subject').fill('kim');
    await page.getByLabel('Subject').press('Enter');
    await page.waitForURL(/subject_id=kim/);
    // A slow service: the tail's read with the first filters answers after 2 s, its first read
    // with the next filters after 4 s, so the earlier run's answer arrives during the later run.
    let firstWithAction = true;
    const isList = (url: URL) => url.pathname === '/v1/decisions';
    const slow = async (route: Route) => {
      const query = new URL(route.request().url()).searchParams;
      if (query.get('limit') === '200') {
        const withAction = query.has('action');
        const delay = withAction ? (firstWithAction ? 4000 : 0) : 2000;
        if (withAction) firstWithAction = false;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      await route.continue();
    };
    await page.route(isList, slow);
    await page.getByLabel('Live tail').check();
    await page.getByLabel('Action').fill('client.view');
    await page.getByLabel('Action').press('Enter');
    await page.waitForURL(/action=client\.view/);
    const tail = page.getByRole('region', { name: 'New decisions' });
    await t.resolves(
      tail.getByRole('link', { name: `Decision ${made.decision_id}` }).waitFor({ timeout: 15_000 }),
      'the decision both filters match is shown by the tail of the later ones',
    );
    await page.unroute(isList, slow);
    await page.getByLabel('Live tail').uncheck();
    await page.getByLabel('Action').fill('');
    await page.getByLabel('Action').press('Enter');
    await page.waitForURL((url) => !url.hash.includes('action='));
  });

  await t.test('a browser whose clock is fast still sees new decisions in the tail', async (t) => {
    const fast = await context.newPage();
    // Ten minutes ahead of the service (a laptop's clock set by hand); the clock still runs.
    await fast.clock.setSystemTime(Date.now() + 10 * 60_000);
    await fast.goto(`${server.base}/console/#/decisions?subject_id=noa`);
    await signIn(fast, server.token);
    await fast.getByLabel('Live tail').check();
    const tail = fast.getByRole('region', { name: 'New decisions' });
    await tail.getByText('No decisions match.').waitFor();
    const made = await decide('noa');
    await t.resolves(
      tail.getByRole('link', { name: `Decision ${made.decision_id}` }).waitFor({ timeout: 15_000 }),
      'the new decision appears: the tail reads from the log’s times, not the browser’s',
    );
    await fast.close();
  });

  await t.test('more decisions than the tail reads in a poll: it shows the newest and says so', async (t) => {
    const first = await decide('zed');
    await page.getByLabel('Subject').fill('zed');
    await page.getByLabel('Subject').press('Enter');
    await page.waitForURL(/subject_id=zed/);
    await page.getByLabel('Live tail').check();
    const tail = page.getByRole('region', { name: 'New decisions' });
    await tail.getByRole('link', { name: `Decision ${first.decision_id}` }).waitFor({ timeout: 15_000 });
    // 2,500 entries at once, a millisecond apart after the one shown: more than ten pages of 200.
    const newest = randomUUID();
    await server.query(
      `insert into decision_log select (jsonb_populate_record(null::decision_log, to_jsonb(d) ||
         jsonb_build_object('decision_id', case when i = 2500 then $2::uuid else gen_random_uuid() end,
                            'decided_at', d.decided_at + i * interval '1 millisecond'))).*
       from decision_log d, generate_series(1, 2500) i where d.decision_id = $1`,
      [first.decision_id, newest],
    );
    const notice = tail.getByRole('status').filter({
      hasText: 'More decisions arrived than the tail reads every 2 s: it shows the newest; the list has them all.',
    });
    await t.resolves(notice.waitFor({ timeout: 15_000 }), 'the tail says it cannot show them all, and where they are');
    await t.resolves(tail.getByRole('link', { name: `Decision ${newest}` }).waitFor(), 'the newest is shown');
    t.equal(await tail.getByRole('row').count(), 501, 'as many as the tail keeps (500) under the header');
    await page.getByLabel('Live tail').uncheck();
  });

  await t.test('a phone-width screen still reads', async (t) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('table').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    t.ok(overflow <= 1, `nothing runs off the side (${overflow} px)`);
    await screenshot(page, 'decisions-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('sign out forgets the token', async (t) => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    t.equal(await page.evaluate(() => sessionStorage.getItem('clearance.token')), null, 'nothing kept');
  });

  t.same(pageErrors, [], 'the page raised no script error');
});

t.test('a refused token is said plainly', async (t) => {
  const { page } = await openConsole(t);
  await page.getByLabel('Token').fill('clr_not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  t.match(await alert.textContent(), /token was refused/, 'the page says the token was refused');
});

t.test('the console is served with a strict policy for browsers', async (t) => {
  const { server } = await openConsole(t);
  const page = await fetch(`${server.base}/console/`);
  const csp = page.headers.get('content-security-policy') ?? '';
  t.match(csp, "script-src 'self'", 'scripts only from the service');
  t.match(csp, "style-src 'self'", 'styles only from the service');
  t.match(csp, "frame-ancestors 'none'", 'never framed');
  t.notMatch(csp, 'unsafe-inline', 'nothing inline');
  t.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const html = await page.text();
  t.notMatch(html, /<script>|<style>|style=/, 'the page holds no inline script or style');
  const answer = await fetch(`${server.base}/v1/decisions`, { headers: { authorization: `Bearer ${server.token}` } });
  t.equal(answer.headers.get('cache-control'), 'no-store', 'API answers are not cached');
  t.equal(answer.headers.get('x-content-type-options'), 'nosniff');
  const anonymous = await fetch(`${server.base}/v1/decisions`);
  t.equal(anonymous.status, 401, 'the files are public; the data needs a token');
});

t.test('a token with the logs scope alone sees only the pages it may use', async (t) => {
  const { server, page } = await openConsole(t);
  const made = await api(server, 'POST', '/v1/tokens', { name: 'lin (operator)', scopes: ['logs'] });
  const { token } = (await made.json()) as { token: string };
  await api(server, 'POST', '/v1/decide', {
    subject: { id: 'sam' },
    action: 'client.view',
    resource: { type: 'client', id: 'acme' },
  });
  await signIn(page, token);
  t.ok(await page.getByText('Signed in as lin (operator)').isVisible(), 'the page names the token');
  const pages = page.getByRole('navigation', { name: 'Pages' }).getByRole('link');
  t.same(await pages.allTextContents(), ['Overview', 'Decisions', 'Access changes'], 'no Policies, no Clients');
  await page.goto(`${server.base}/console/#/policies`);
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  t.match(await refusal.textContent(), /needs the scope policy/, 'a page it may not use says which scope it needs');
  await page.getByRole('link', { name: 'Decisions', exact: true }).click();
  await t.resolves(page.getByRole('table').waitFor(), 'the decision log reads with the logs scope alone');
  t.notOk(await page.getByLabel('Replay with').isVisible(), 'no choice of revision without the policy scope');
});
