#!/usr/bin/env node
// Interop driver. Runs one scenario in headless Chromium and prints its result as one JSON
// line on stdout (the last line); exits 0 when every check passed, 1 when one failed, 2 on a
// harness error. Run it inside a loopback-only network namespace: `./netns.sh node run.mjs ...`.
//
//   node run.mjs selftest   two in-page peers over loopback (harness self-test)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openHarnessPage, serveStatic } from './lib/harness.mjs';
import { selftestVerdict } from './lib/verdict.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SIZES = [1, 1024, 16 * 1024, 64 * 1024, 256 * 1024];

async function selftest() {
  const pages = await serveStatic(join(here, 'pages'));
  const browser = await launchBrowser();
  try {
    await openHarnessPage(browser.page, `${pages.url}/selftest.html`);
    const run = await browser.page.evaluate(
      (opts) => window.selftest(opts),
      { sizes: SIZES, bulkBytes: 4 << 20, bulkChunk: 16 * 1024 },
    );
    const failures = selftestVerdict(run);
    return { scenario: 'selftest', ok: failures.length === 0, failures, browser: browser.version, ...run, logs: browser.logs };
  } finally {
    await browser.close();
    await pages.close();
  }
}

const scenarios = { selftest };

async function main() {
  const name = process.argv[2];
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`usage: run.mjs <${Object.keys(scenarios).join('|')}>`);
    process.exit(2);
  }
  const deadline = setTimeout(() => {
    console.log(JSON.stringify({ scenario: name, ok: false, failures: ['driver timed out after 90 s'] }));
    process.exit(1);
  }, 90000);
  let result;
  try {
    result = await scenario();
  } catch (e) {
    result = { scenario: name, ok: false, failures: [`harness error: ${e.stack || e}`] };
  }
  clearTimeout(deadline);
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

main();
