// The console's live tail reader (console/src/live-tail.ts) against a decision log held in memory
// and answered as GET /v1/decisions answers (newest first, since inclusive, a cursor per page):
// where it starts, what each poll asks for, when it stops paging, and what it says when it cannot
// keep up. No browser clock is read: every time here is the log's.
import t from 'tap';
import {
  OVERLAP_MS,
  type ReadPage,
  TAIL_PAGE_SIZE,
  TAIL_PAGES,
  type TailEntry,
  tailReader,
} from '../../console/src/live-tail.ts';

type DecisionEntry = TailEntry;

/** The log's clock: far from any browser's, as a server's may be. */
const T0 = Date.parse('2031-05-01T12:00:00.000Z');

let counter = 0;
function entry(at: number): DecisionEntry {
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  return { decision_id: id, decided_at: new Date(at).toISOString() };
}

/** A log in memory, and each request made of it. */
function memoryLog() {
  const rows: DecisionEntry[] = [];
  const requests: Array<{ since: string | undefined; cursor: string | undefined; returned: number }> = [];
  const read: ReadPage<DecisionEntry> = async (since, cursor) => {
    const from = since === undefined ? Number.NEGATIVE_INFINITY : Date.parse(since);
    const sorted = rows
      .filter((row) => Date.parse(row.decided_at) >= from)
      .sort((a, b) => b.decided_at.localeCompare(a.decided_at) || b.decision_id.localeCompare(a.decision_id));
    const start = cursor === undefined ? 0 : Number(cursor);
    const decisions = sorted.slice(start, start + TAIL_PAGE_SIZE);
    const next = start + TAIL_PAGE_SIZE < sorted.length ? String(start + TAIL_PAGE_SIZE) : null;
    requests.push({ since, cursor, returned: decisions.length });
    return { decisions, next_cursor: next };
  };
  const add = (...ats: number[]) => {
    const made = ats.map(entry);
    rows.push(...made);
    return made;
  };
  return { rows, requests, read, add };
}

const running = () => false;
const ids = (entries: readonly DecisionEntry[]) => entries.map((e) => e.decision_id).sort();

t.test('the first poll reads the newest page, without a since, and anchors on the log’s times', async (t) => {
  const log = memoryLog();
  const old = log.add(T0 - 3_600_000, T0 - 5_000, T0);
  const poll = tailReader(log.read, undefined);
  const first = await poll(running);
  t.same(log.requests, [{ since: undefined, cursor: undefined, returned: 3 }], 'one request, from no time at all');
  t.same(ids(first?.fresh ?? []), ids(old), 'the entries there are, shown');
  const late = log.add(T0 + 1_000);
  const second = await poll(running);
  t.equal(
    log.requests[1]?.since,
    new Date(T0 - OVERLAP_MS).toISOString(),
    'the next poll reads from the newest entry read less the overlap',
  );
  t.same(ids(second?.fresh ?? []), ids(late), 'and shows only what is new');
});

t.test('with the filters’ since, the first poll reads from it', async (t) => {
  const log = memoryLog();
  log.add(T0 - 120_000, T0 - 55_000);
  const since = new Date(T0 - 60_000).toISOString();
  const poll = tailReader(log.read, since);
  const first = await poll(running);
  t.equal(log.requests[0]?.since, since);
  t.equal(first?.fresh.length, 1, 'only the entry after it');
  log.add(T0 - 54_000);
  await poll(running);
  t.equal(log.requests[1]?.since, since, 'a later poll never reads before the filters’ since');
});

t.test('an empty log: polls read from the start until the first entry arrives', async (t) => {
  const log = memoryLog();
  const poll = tailReader(log.read, undefined);
  t.same(await poll(running), { fresh: [], behind: false });
  const [made] = log.add(T0);
  t.same(ids((await poll(running))?.fresh ?? []), ids(made === undefined ? [] : [made]));
  t.equal(log.requests[1]?.since, undefined);
  t.equal(log.requests[2], undefined);
});

t.test('an entry committed out of order within the overlap is shown, once', async (t) => {
  const log = memoryLog();
  log.add(T0);
  const poll = tailReader(log.read, undefined);
  await poll(running);
  const late = log.add(T0 - 5_000);
  t.same(ids((await poll(running))?.fresh ?? []), ids(late), 'shown on the next poll');
  t.same((await poll(running))?.fresh, [], 'and not again');
});

t.test('a full first page starts the tail: entries older than it are not read back later', async (t) => {
  const log = memoryLog();
  // 40 a second for 10 s: more than a page.
  log.add(...Array.from({ length: 400 }, (_, i) => T0 - 10_000 + i * 25));
  const poll = tailReader(log.read, undefined);
  const first = await poll(running);
  t.equal(first?.fresh.length, TAIL_PAGE_SIZE, 'the newest page');
  t.equal(log.requests.length, 1, 'in one request');
  log.add(T0 + 1_000);
  const second = await poll(running);
  t.equal(second?.fresh.length, 1, 'then only the new entry, not the older half of the window');
  t.equal(log.requests[1]?.since, first?.fresh.at(-1)?.decided_at, 'read from the start of the tail');
});

t.test('at 40 decisions a second, a poll stops at the first page of entries already read', async (t) => {
  const log = memoryLog();
  let now = T0;
  const second = (count: number) => {
    const made = log.add(...Array.from({ length: count }, (_, i) => now + (i * 1000) / count));
    now += 1000;
    return made;
  };
  for (let s = 0; s < 30; s += 1) second(40);
  const poll = tailReader(log.read, undefined);
  await poll(running);
  let read = 0;
  for (let round = 0; round < 10; round += 1) {
    second(40);
    const newer = second(40);
    const before = log.requests.length;
    const answer = await poll(running);
    t.equal(answer?.fresh.length, 80, `poll ${round + 1}: the 80 new entries`);
    t.ok(ids(answer?.fresh ?? []).includes(newer[39]?.decision_id ?? ''), 'the newest among them');
    t.equal(answer?.behind, false);
    read += log.requests.slice(before).reduce((sum, request) => sum + request.returned, 0);
  }
  // Not the 600 entries of the whole overlap a poll: the new ones' page, and one of entries read.
  t.ok(read <= 10 * 2 * TAIL_PAGE_SIZE, `at most two pages a poll (${read} entries read in 10 polls)`);
});

t.test('when more arrive than a poll reads, it shows the newest and says so', async (t) => {
  const log = memoryLog();
  log.add(T0);
  const poll = tailReader(log.read, undefined);
  await poll(running);
  const burst = log.add(...Array.from({ length: TAIL_PAGES * TAIL_PAGE_SIZE + 500 }, (_, i) => T0 + 1 + i));
  const answer = await poll(running);
  t.equal(answer?.behind, true, 'behind');
  t.equal(log.requests.length, 1 + TAIL_PAGES, 'after the page budget');
  const newest = burst.slice(-TAIL_PAGES * TAIL_PAGE_SIZE);
  t.same(ids(answer?.fresh ?? []), ids(newest), 'the newest entries were read');
  log.add(T0 + 100_000);
  const next = await poll(running);
  t.equal(next?.behind, false, 'no longer behind once a poll reads all that is new');
});

t.test('once stopped, a poll under way returns nothing and reads no further', async (t) => {
  const log = memoryLog();
  log.add(...Array.from({ length: 600 }, (_, i) => T0 + i));
  const poll = tailReader(log.read, undefined);
  await poll(running);
  log.add(...Array.from({ length: 600 }, (_, i) => T0 + 1000 + i));
  const before = log.requests.length;
  t.equal(await poll(() => true), null);
  t.equal(log.requests.length, before + 1, 'the request under way, and no other');
});

t.test('two readers (two runs of the tail) share nothing', async (t) => {
  const log = memoryLog();
  const made = log.add(T0);
  const older = tailReader(log.read, undefined);
  const newer = tailReader(log.read, undefined);
  await older(running);
  t.same(ids((await newer(running))?.fresh ?? []), ids(made), 'what one has read, the other still shows');
});

t.test('a poll that fails part way changes nothing: the next one shows what it had read', async (t) => {
  const log = memoryLog();
  log.add(T0);
  let failing = false;
  const read: ReadPage<DecisionEntry> = async (since, cursor) => {
    if (failing && cursor !== undefined) throw new Error('the service could not be reached');
    return log.read(since, cursor);
  };
  const poll = tailReader(read, undefined);
  await poll(running);
  const burst = log.add(...Array.from({ length: 300 }, (_, i) => T0 + 1 + i));
  failing = true;
  await t.rejects(poll(running), /could not be reached/, 'the second page fails');
  failing = false;
  t.same(ids((await poll(running))?.fresh ?? []), ids(burst), 'every entry of the burst, the first page’s too');
});
