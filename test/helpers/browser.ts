// The console in a real browser: Debian's Chromium (make chromium installs it), headless, driven by
// playwright-core, against a service process on a fresh PostgreSQL database with the demo data.
// Tests find controls by role and label, as a person would. Each page's screenshot is saved under
// .build/browser-screenshots for a person to look at.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startServer, type ServerProcess } from './server-process.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOTS = '.build/browser-screenshots';

/** Flags for a sandboxed machine with no network but loopback (see the machine notes in the README). */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(t: Teardown): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  t.teardown(() => browser.close());
  return browser;
}

export interface ConsoleSession {
  server: ServerProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Script errors and console errors the page raised (a test may assert there were none). */
  pageErrors: string[];
  /** Dialogs the page opened (alert, confirm): a hostile value that ran would open one. */
  dialogs: string[];
}

/** A service with the demo data, a browser, and a page on the console's sign-in. */
export async function openConsole(
  t: Teardown,
  options: { env?: Record<string, string>; viewport?: { width: number; height: number } } = {},
): Promise<ConsoleSession> {
  const server = await startServer(t, { DECISION_LOG: 'durable', ...options.env });
  const browser = await launchBrowser(t);
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(`${server.base}/console/`);
  return { server, browser, context, page, pageErrors, dialogs };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Calls the service's API as the admin token (to write facts and decisions the console shows). */
export async function api(server: ServerProcess, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
