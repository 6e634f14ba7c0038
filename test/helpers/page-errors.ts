// Script and console errors a console page raises, with where each came from, less the browser's
// own request for /favicon.ico: the service has none, and Chromium asks for it on its own (a 404
// in the console that says nothing about the page). Watch from before the steps to check.
import type { Page } from 'playwright-core';

export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const { url } = message.location();
    if (new URL(url, 'http://x/').pathname === '/favicon.ico') return;
    errors.push(`${message.text()}${url === '' ? '' : ` (${url})`}`);
  });
  return errors;
}
