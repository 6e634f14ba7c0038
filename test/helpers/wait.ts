// Waiting on a condition rather than for a while: a test goes on the moment what it waits for
// holds, and a slow, shared machine only makes it wait longer, never fail.

/** Polls check until it holds or ms pass; true when it held. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until check holds; throws, naming what never came, after ms (something is stuck). */
export async function until(check: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  if (!(await eventually(check, ms))) throw new Error(`waited ${ms} ms for ${what}`);
}

/**
 * Lets everything already under way that needs no outside event run (promise callbacks, I/O
 * callbacks ready): before asserting that something has not happened yet.
 */
export const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
