// The console's overview in Chromium: after some decisions, the chart is drawn in its labelled
// figure with the totals beside it in text, the top deny reason with its count leads to the
// decisions it names, the percentiles and this process's log queue are shown, a phone reads it.
import t from 'tap';
import type { Locator } from 'playwright-core';
import { api, openConsole, screenshot, signIn } from '../helpers/browser.ts';
import { eventually } from '../helpers/wait.ts';

interface Answer {
  decision_id: string;
  allow: boolean;
  reasons: { code: string }[];
}

const ALLOWED = 3;
const DENIED = 2;

/** A list of figures (term, then its value) as a person reads it: { Allowed: '3', p50: '120 µs', … }. */
const figuresOf = (list: Locator): Promise<Record<string, string>> =>
  list.evaluate((element) =>
    Object.fromEntries(
      [...element.querySelectorAll('dt')].map((term) => [
        term.textContent?.trim() ?? '',
        term.nextElementSibling?.textContent?.trim() ?? '',
      ]),
    ),
  );

/** --allowed and --denied in console/src/styles.css. */
const ALLOWED_RGB = [0x1d, 0x7a, 0x3a];
const DENIED_RGB = [0xb3, 0x26, 0x1e];

interface CanvasLike {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

/** Runs in the page: how many of the canvas's pixels are (near) each colour. */
function countColours(element: unknown, colours: number[][]): number[] {
  const canvas = element as CanvasLike;
  const pixels = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
  return colours.map((rgb) => {
    let count = 0;
    for (let i = 0; i + 3 < pixels.length; i += 4) {
      const near = rgb.every((value, channel) => Math.abs((pixels[i + channel] ?? 0) - value) <= 12);
      if (near && (pixels[i + 3] ?? 0) > 200) count++;
    }
    return count;
  });
}

const cellsOf = (row: Locator): Promise<string[]> => row.getByRole('cell').allTextContents();

t.test('an operator reads the overview', async (t) => {
  const { server, page, pageErrors, dialogs } = await openConsole(t);

  const answers: Answer[] = [];
  const decide = async (client: string) => {
    const ask = { subject: { id: 'sam' }, action: 'client.view', resource: { type: 'client', id: client } };
    answers.push((await (await api(server, 'POST', '/v1/decide', ask)).json()) as Answer);
  };
  for (let i = 0; i < ALLOWED; i++) await decide('acme');
  for (let i = 0; i < DENIED; i++) await decide('globex');
  const denial = answers.find((answer) => !answer.allow);
  t.equal(answers.filter((answer) => answer.allow).length, ALLOWED, 'sam may view acme');
  t.equal(answers.filter((answer) => !answer.allow).length, DENIED, 'and may not view globex');
  const reason = denial?.reasons[0]?.code ?? '';
  t.not(reason, '', `the denial gives a reason code (${reason})`);

  await signIn(page, server.token);

  await t.test('the chart is drawn in its labelled figure, the totals beside it in text', async (t) => {
    await page.getByRole('link', { name: 'Overview' }).click();
    const figure = page.getByRole('figure', { name: /Decisions over time/ });
    await figure.waitFor();
    const canvas = figure.locator('canvas').first();
    await canvas.waitFor();
    // The lines are drawn in the style sheet's colours for allowed and denied.
    const painted = await canvas.evaluate(countColours, [ALLOWED_RGB, DENIED_RGB]);
    t.ok((painted[0] ?? 0) > 0, `the allowed line is drawn (${painted[0]} pixels of its colour)`);
    t.ok((painted[1] ?? 0) > 0, `the denied line is drawn (${painted[1]} pixels of its colour)`);
    const totals = figure.getByLabel('Totals');
    await t.resolves(totals.getByText('Decisions').waitFor(), 'the totals are listed');
    t.match(
      await figuresOf(totals),
      { Decisions: String(ALLOWED + DENIED), Allowed: String(ALLOWED), Denied: String(DENIED), Refused: '0' },
      'every decision made: those allowed, those denied, none refused',
    );
    t.equal(await page.getByLabel('Window').inputValue(), '24h', 'the last 24 hours, unless asked otherwise');
  });

  await t.test('the legend is a key: a click on it hides no line', async (t) => {
    const figure = page.getByRole('figure', { name: /Decisions over time/ });
    const canvas = figure.locator('canvas').first();
    // The legend is uPlot's table, the only one in the figure (the totals are a list).
    await figure.getByRole('table').getByText('Denied', { exact: true }).click();
    await page.waitForTimeout(300);
    const painted = await canvas.evaluate(countColours, [ALLOWED_RGB, DENIED_RGB]);
    t.ok((painted[1] ?? 0) > 0, `the denied line is still drawn (${painted[1]} pixels of its colour)`);
  });

  await t.test('the top deny reason, the percentiles and the queue', async (t) => {
    const reasons = page.getByRole('region', { name: 'Top deny reasons' });
    t.same(await cellsOf(reasons.getByRole('row').nth(1)), [reason, String(DENIED)], 'the denial’s reason, once each');
    const actions = page.getByRole('region', { name: 'Top actions' });
    t.same(
      await cellsOf(actions.getByRole('row').nth(1)),
      ['client.view', String(ALLOWED), String(DENIED), '0'],
      'client.view: allowed, denied, none refused',
    );
    const evaluation = await figuresOf(page.getByLabel('Evaluation time percentiles'));
    for (const name of ['p50', 'p95', 'p99']) {
      t.match(evaluation[name], /^[\d.]+ (µs|ms)$/, `${name} of evaluation time is shown (${evaluation[name]})`);
    }
    const queue = page.getByRole('region', { name: 'Decision-log queue' });
    await queue.getByText('Queue depth').waitFor();
    t.match(
      (await figuresOf(queue.getByLabel('Queue', { exact: true })))['Queue depth'],
      /^\d+$/,
      'the queue depth is a number',
    );
    t.match(await queue.textContent(), /This process's queue only/, 'said to be this process’s');
    await screenshot(page, 'overview');
  });

  await t.test('another window keeps the decisions and buckets them by minute', async (t) => {
    await page.getByLabel('Window').selectOption({ label: 'last hour' });
    await page.waitForURL(/window=1h/);
    const figure = page.getByRole('figure', { name: 'Decisions over time, by minute' });
    await t.resolves(figure.waitFor(), 'by minute');
    t.match(await figuresOf(figure.getByLabel('Totals')), { Denied: String(DENIED) }, 'the same denials');
    await page.getByLabel('Bucket').selectOption('hour');
    await t.resolves(page.getByRole('figure', { name: 'Decisions over time, by hour' }).waitFor(), 'or by hour');
    await page.getByLabel('Window').selectOption({ label: 'between two times' });
    await page.getByLabel('From').waitFor();
    t.not(await page.getByLabel('From').inputValue(), '', 'the fields start at the window shown');
    // From ten minutes ago until the minute after now: the decisions made.
    const local = (ms: number) => {
      const at = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
      return at.toISOString().slice(0, 19);
    };
    await page.getByLabel('From').fill(local(Date.now() - 600_000));
    await page.getByLabel('Until').fill(local(Date.now() + 60_000));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/window=custom.*since=.*until=/);
    // By minute now, so the figure shown is of this window, not the one before.
    await page.getByLabel('Bucket').selectOption('minute');
    const custom = page.getByRole('figure', { name: 'Decisions over time, by minute' });
    await custom.waitFor();
    t.match(
      await figuresOf(custom.getByLabel('Totals')),
      { Allowed: String(ALLOWED), Denied: String(DENIED) },
      'between two times: the same decisions',
    );
    await page.getByLabel('Window').selectOption({ label: 'last 24 hours' });
    await page.waitForURL(/window=24h/);
    await page.getByLabel('Bucket').selectOption('');
    await page.getByRole('figure', { name: 'Decisions over time, by hour' }).waitFor();
  });

  await t.test('Refresh counts a decision made since', async (t) => {
    await decide('acme');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const totals = page.getByRole('figure', { name: /Decisions over time/ }).getByLabel('Totals');
    const counted = await eventually(async () => (await figuresOf(totals)).Allowed === String(ALLOWED + 1));
    t.ok(counted, 'one more allowed');
    t.match(await figuresOf(totals), { Decisions: String(ALLOWED + DENIED + 1), Denied: String(DENIED) });
  });

  await t.test('a phone-width screen still reads, the chart as wide as the screen', async (t) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const canvas = page
      .getByRole('figure', { name: /Decisions over time/ })
      .locator('canvas')
      .first();
    const narrow = await eventually(async () => ((await canvas.boundingBox())?.width ?? 999) < 390);
    t.ok(narrow, 'the chart shrinks with its container');
    const box = await canvas.boundingBox();
    t.ok(box !== null && box.width > 200, `and still reads (${box?.width} px wide)`);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    t.ok(overflow <= 1, `nothing runs off the side (${overflow} px)`);
    await screenshot(page, 'overview-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('the top reason opens the decisions it names, in the same window', async (t) => {
    await page.getByRole('region', { name: 'Top deny reasons' }).getByRole('link', { name: reason }).click();
    await page.waitForURL(/#\/decisions\?/);
    const query = new URLSearchParams(page.url().split('?')[1]);
    t.equal(query.get('reason_code'), reason, 'filtered by the reason');
    t.equal(query.get('allow'), 'false', 'and by denied');
    t.ok(query.get('since') !== null && query.get('until') !== null, 'in the window shown');
    const rows = page.getByRole('table').getByRole('row');
    await rows.nth(DENIED).waitFor();
    t.equal(await rows.count(), DENIED + 1, 'one header and each denial');
    t.equal(await page.getByLabel('Reason code').inputValue(), reason, 'the filter shows the reason');
  });

  t.same(pageErrors, [], 'the page raised no script error (nor a refusal of the CSP)');
  t.same(dialogs, [], 'and opened no dialog');
});
