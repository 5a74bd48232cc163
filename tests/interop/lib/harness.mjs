// Node side of the interop harness: a static file server on 127.0.0.1 and a headless
// browser — Debian's Chromium driven by playwright-core, or Debian's Firefox ESR driven by
// puppeteer-core over WebDriver BiDi; never a downloaded build. Both come back as the same
// small object ({page, logs, version, close}) so scenarios do not care which it is. Both
// have fake camera and microphone granted, so media scenarios can call getUserMedia.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

/** Flags every interop run uses; the user data dir is fresh per launch. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  // Echoed audio plays without a click, so that receive statistics count its samples.
  '--autoplay-policy=no-user-gesture-required',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Host candidates as plain 127.0.0.1 addresses rather than mDNS `.local` names, which a
  // loopback-only namespace cannot resolve.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export const CHROMIUM_PATH = process.env.RTCPEER_CHROMIUM || '/usr/bin/chromium';

export const FIREFOX_PATH = process.env.RTCPEER_FIREFOX || '/usr/bin/firefox-esr';

/** Firefox preferences every interop run uses (the counterpart of CHROMIUM_FLAGS). */
export const FIREFOX_PREFS = {
  // Fake camera and microphone, granted without a prompt.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  // Host candidates on loopback, as plain addresses (no mDNS `.local` names, which a
  // loopback-only namespace cannot resolve), and every address, not just the default route's.
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.default_address_only': false,
  'media.peerconnection.ice.no_host': false,
  'media.peerconnection.ice.proxy_only': false,
  'media.peerconnection.ice.link_local': true,
  // Nothing leaves for the network on its own.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

/** Which browser a scenario runs in: `--browser chromium|firefox` (default chromium). */
export const BROWSERS = ['chromium', 'firefox'];

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };

/** Serves the files under `root` on 127.0.0.1 at an OS-chosen port. */
export async function serveStatic(root) {
  const server = createServer(async (req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'Content-Type': TYPES[extname(path)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

/**
 * Launches `kind` (`chromium` or `firefox`) headless with a fresh profile and opens one
 * page. Browser console errors and warnings and page errors are collected in `logs`.
 */
export async function launchBrowser(kind = 'chromium', { loopback = true } = {}) {
  if (kind === 'firefox') return launchFirefox();
  if (kind !== 'chromium') throw new Error(`unknown browser ${kind}; use ${BROWSERS.join(' or ')}`);
  return launchChromium({ loopback });
}

/** Headless Firefox ESR through puppeteer-core over WebDriver BiDi. */
async function launchFirefox() {
  const userDataDir = await mkdtemp(join(tmpdir(), 'rtcpeer-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX_PATH,
    headless: true,
    userDataDir,
    extraPrefsFirefox: FIREFOX_PREFS,
    timeout: 30000,
    protocolTimeout: 120000,
  });
  const page = (await browser.pages())[0] || (await browser.newPage());
  const logs = [];
  page.on('console', (m) => {
    if (['error', 'warn', 'warning'].includes(m.type())) logs.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  return {
    page,
    logs,
    version: await browser.version().catch(() => null),
    async close() {
      await browser.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium through playwright-core. */
async function launchChromium({ loopback }) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'rtcpeer-chromium-'));
  // RTCPEER_CHROMIUM_LOG=1: Chromium's WebRTC log goes to its stderr, which playwright prints
  // with DEBUG=pw:browser (a debugging aid).
  const logFlags = process.env.RTCPEER_CHROMIUM_LOG
    ? ['--enable-logging=stderr', '--v=0', '--vmodule=*/webrtc/*=2,*sctp*=3,*data_channel*=3']
    : [];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS.filter((f) => loopback || f !== '--allow-loopback-in-peer-connection'), ...logFlags],
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  const logs = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') logs.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  return {
    page,
    logs,
    version: context.browser()?.version() ?? null,
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `url` and waits for the page script to set `window.harnessReady` (polled through
 * `evaluate`, which playwright and puppeteer pages both have with the same signature).
 */
export async function openHarnessPage(page, url) {
  await page.goto(url);
  const until = Date.now() + 10000;
  while (!(await page.evaluate(() => window.harnessReady === true))) {
    if (Date.now() > until) throw new Error(`${url}: harness not ready after 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
