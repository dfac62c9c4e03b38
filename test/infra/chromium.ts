/**
 * @module Debian's Chromium through playwright-core, with the flags found to run it
 * headless here, offline (docs/operations.md, "Traps"). Every launch gets a fresh profile: playwright's
 * `launch` creates a temporary user-data directory and removes it on `browser.close()`, so
 * callers only need to close the browser.
 */
import { type Browser, chromium } from 'playwright-core';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}
