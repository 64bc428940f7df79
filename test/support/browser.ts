/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser): `.ci/run` installs
 * the `chromium` package when it is missing. Screenshots go under `test-results/` (gitignored),
 * which CI keeps as artifacts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where Debian's package puts the browser. */
export const CHROMIUM = process.env.SLIPWAY_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots of the browser tests. */
export const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'test-results', 'console');

/** Launch headless Chromium with the flags this machine's closed network needs (playwright gives it a fresh profile). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium); .ci/run does`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Save a full-page screenshot as `test-results/console/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
