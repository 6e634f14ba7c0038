// Lists the console reads whole (the accounts for a picker, an account's users for their names),
// page by page, with a bound so that a very large account cannot hang a page.

/** Lists read whole (accounts for the picker, users for their names) stop after this many pages. */
const MAX_PAGES = 20;

/** Every page of a listing, up to MAX_PAGES of 1000. */
export async function readAll<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages += 1) {
    const answer = await page(cursor);
    all.push(...answer.items);
    if (answer.next_cursor === null) break;
    cursor = answer.next_cursor;
  }
  return all;
}
