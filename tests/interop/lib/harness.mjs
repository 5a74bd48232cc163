// Node side of the interop harness: a static file server on 127.0.0.1 and a headless
// Chromium (Debian's /usr/bin/chromium, never a downloaded build) driven by playwright-core.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { chromium } from 'playwright-core';

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
 * Launches headless Chromium with a fresh user data dir and opens one page. Browser console
 * errors and page errors are collected in `logs` for the result.
 */
export async function launchBrowser({ loopback = true } = {}) {
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

/** Opens `url` and waits for the page script to set `window.harnessReady`. */
export async function openHarnessPage(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.harnessReady === true, null, { timeout: 10000 });
}
