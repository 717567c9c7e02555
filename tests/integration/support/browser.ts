/** Debian's headless Chromium through playwright-core, as the console's browser tests drive it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

const CHROMIUM = process.env.CALMS_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where the console tests save their screenshots: $CALMS_TEST_SCREENSHOTS, by default <tmp>/calms-console-screenshots. */
export const SCREENSHOTS = process.env.CALMS_TEST_SCREENSHOTS ?? path.join(os.tmpdir(), 'calms-console-screenshots');

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's own connections would be refused on this closed network, and nothing here needs a GPU.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
