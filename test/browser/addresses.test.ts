// Crafted console addresses in Chromium: a part that is not valid %-encoding, a dot segment (which
// the browser would fold away, sending /v1/decisions/.. as GET /v1/), and values that are not the
// ids a page looks up. Each is said in words, no such request is sent with the token, and the
// console goes on working.
import t, { type Test } from 'tap';
import { api, openConsole, screenshot, signIn } from '../helpers/browser.ts';

interface Answer {
  decision_id: string;
}

const REVISION = /^[0-9a-f]{32}$/;

/** Every path of the API the console calls, ids in their shape. */
const CALLED = new RegExp(
  [
    '^/v1/tokens/self$',
    '^/v1/decisions(/stats)?$',
    '^/v1/decisions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    '^/v1/policies(/shadow)?$',
    '^/v1/policies/[0-9a-f]{32}(/source)?$',
    '^/v1/accounts$',
    '^/v1/accounts/[A-Za-z0-9_.:-]+/(clients|users)$',
    '^/v1/accounts/[A-Za-z0-9_.:-]+/clients/[A-Za-z0-9_.:-]+$',
    '^/v1/subjects/query$',
  ].join('|'),
);

t.test('crafted addresses are refused in words, and nothing is asked of the API for them', async (t) => {
  const { server, page, pageErrors } = await openConsole(t);
  const requests: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path === '/v1' || path.startsWith('/v1/')) requests.push(path);
  });
  const made = (await (
    await api(server, 'POST', '/v1/decide', {
      subject: { id: 'sam' },
      action: 'client.view',
      resource: { type: 'client', id: 'acme' },
    })
  ).json()) as Answer;
  const revision = ((await (await api(server, 'GET', '/v1/policies')).json()) as { active: { revision: string } })
    .active.revision;
  t.match(revision, REVISION, 'the active revision, to compare with');
  await signIn(page, server.token);

  const visit = async (t: Test, fragment: string, message: RegExp) => {
    await page.goto(`${server.base}/console/${fragment}`);
    const alert = page.getByRole('alert').filter({ hasText: message });
    await t.resolves(alert.waitFor({ timeout: 5000 }), `${fragment}: said in an alert`);
  };

  await t.test('an address that names no page', async (t) => {
    await visit(t, '#/decisions/%', /No such page: the part “%” of the address is not valid %-encoding/);
    await screenshot(page, 'address-malformed');
    await visit(t, '#/decisions/%E0%A4%A', /No such page: .* not valid %-encoding/);
    await visit(t, '#/decisions/..', /No such page: the address has a part “\.\.”/);
    await visit(t, '#/decisions/%2e%2e', /No such page: the address has a part “\.\.”/);
    await visit(t, '#/policies/..', /No such page: the address has a part “\.\.”/);
    await visit(t, '#/policies/.', /No such page: the address has a part “\.”/);
    await visit(t, '#/clients/../..', /No such page: the address has a part “\.\.”/);
  });

  await t.test('a value that is not the id a page looks up', async (t) => {
    await visit(t, '#/decisions/not-a-decision', /“not-a-decision” is not a decision id/);
    await visit(t, '#/policies/abc', /“abc” is not a revision id/);
    await visit(t, `#/policies/${revision.toUpperCase()}`, /is not a revision id/);
    await visit(t, `#/policies/${revision}?compare=..`, /“\.\.” \(compare with\) is not a revision id/);
    await visit(t, '#/clients?account=..', /“\.\.” is not an account id/);
    await visit(t, '#/clients/acme/a%2F..', /“a\/\.\.” is not a client id/);
    await visit(t, '#/clients/%2F/x', /“\/” is not an account id/);
    await screenshot(page, 'address-not-an-id');
  });

  await t.test('the console goes on working', async (t) => {
    await page.getByRole('link', { name: 'Decisions', exact: true }).click();
    const link = page.getByRole('link', { name: `Decision ${made.decision_id}` });
    await t.resolves(link.waitFor(), 'the decision log is listed');
    await link.click();
    await t.resolves(page.getByRole('list', { name: 'Reasons' }).waitFor(), 'and a decision opens');
    await page.goto(`${server.base}/console/#/policies/${revision}?compare=`);
    await t.resolves(
      page.getByRole('heading', { name: `Revision ${revision.slice(0, 12)}` }).waitFor(),
      'a revision opens',
    );
  });

  t.notOk(
    requests.some((path) => path === '/v1' || path === '/v1/' || /\/\.\.?(\/|$)/.test(path)),
    'no request to /v1/ alone or with a dot segment',
  );
  t.same(
    requests.filter((path) => !CALLED.test(path)),
    [],
    'every request was to a path of the API, its ids in their shape',
  );
  t.same(pageErrors, [], 'the page raised no script error (a malformed address throws nothing)');
});
