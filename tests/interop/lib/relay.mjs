// A UDP relay on loopback between the browser and an rtcpeer program, with seeded random loss
// of RTP in the rtcpeer→browser direction: the kernel here has no netem, so loss is made in
// userspace. STUN, DTLS and RTCP always pass, so what a run measures is media recovery, not
// connection setup.
//
// Each peer sees only the relay: the offer's candidates are replaced by the relay's
// browser-facing socket, the answer's by its server-facing socket (`relaySdp`).
import dgram from 'node:dgram';

/** A seeded generator of floats in [0, 1) (mulberry32): the same seed drops the same packets. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whether a datagram is (S)RTP, not (S)RTCP: first byte 128..191 (RFC 7983) and a second
 * byte outside 192..223, where RTCP packet types sit (RFC 5761 §4).
 */
export function isRtp(datagram) {
  if (datagram.length < 12 || datagram[0] < 128 || datagram[0] > 191) return false;
  return datagram[1] < 192 || datagram[1] > 223;
}

/** The first UDP IPv4 host candidate of an SDP: `{ address, port }`, or null. */
export function firstUdpCandidate(sdp) {
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=candidate:\S+ \d+ udp \d+ (\d+\.\d+\.\d+\.\d+) (\d+) typ host/i.exec(line);
    if (m) return { address: m[1], port: Number(m[2]) };
  }
  return null;
}

/**
 * `sdp` with every candidate line replaced by one UDP host candidate at `to` (once per
 * m-section that had candidates): the peer reading it can reach only `to`.
 */
export function relaySdp(sdp, to) {
  const lines = sdp.split('\r\n');
  const out = [];
  let replaced = false;
  for (const line of lines) {
    if (line.startsWith('m=')) replaced = false;
    if (!line.startsWith('a=candidate:')) {
      out.push(line);
      continue;
    }
    if (!replaced) {
      out.push(`a=candidate:1 1 udp 2130706431 ${to.address} ${to.port} typ host`);
      replaced = true;
    }
  }
  return out.join('\r\n');
}

function bind(socket) {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket.address());
    });
  });
}

/**
 * Starts a relay for `server` (rtcpeer's real address). The browser's address is the
 * answer's candidate, set with `setBrowser`, or else the first address that sends to the
 * browser-facing socket. Datagrams from the browser go on to the server; datagrams from the
 * server go on to the browser, except that each RTP datagram is dropped with probability
 * `loss` (drawn from `seededRandom(seed)`). Datagrams from anyone else, and from the server
 * before the browser is known, are counted and dropped. Returns the two addresses to
 * advertise and live counters.
 */
export async function startLossyRelay({ server, loss, seed }) {
  const browserSide = dgram.createSocket('udp4');
  const serverSide = dgram.createSocket('udp4');
  const random = seededRandom(seed);
  const counters = { toServer: 0, toBrowser: 0, rtpToBrowser: 0, rtpDropped: 0, strangers: 0, early: 0 };
  let browser = null;
  const from = (rinfo, peer) => rinfo.address === peer.address && rinfo.port === peer.port;
  browserSide.on('message', (datagram, rinfo) => {
    browser ??= { address: rinfo.address, port: rinfo.port };
    if (!from(rinfo, browser)) { counters.strangers += 1; return; }
    counters.toServer += 1;
    serverSide.send(datagram, server.port, server.address);
  });
  serverSide.on('message', (datagram, rinfo) => {
    if (!from(rinfo, server)) { counters.strangers += 1; return; }
    if (!browser) { counters.early += 1; return; }
    if (isRtp(datagram)) {
      counters.rtpToBrowser += 1;
      if (random() < loss) { counters.rtpDropped += 1; return; }
    }
    counters.toBrowser += 1;
    browserSide.send(datagram, browser.port, browser.address);
  });
  const browserFacing = await bind(browserSide);
  const serverFacing = await bind(serverSide);
  return {
    browserFacing,
    serverFacing,
    counters,
    setBrowser: (address) => { browser ??= address; },
    close: () => { browserSide.close(); serverSide.close(); },
  };
}

/**
 * A bottleneck link: `rateBps` bits per second behind a drop-tail queue of `queueMs`. Each
 * datagram given to `pass` leaves (through `send`) when the link has carried the ones
 * before it; one that would wait longer than `queueMs` is dropped and counted in
 * `counters.queueDrops`. `rateBps` may be changed while it runs; 0 lets everything through
 * at once.
 */
function bottleneck({ rateBps, queueMs }, counters) {
  // When the link is next free, in ms (performance.now()).
  let linkFree = 0;
  const link = {
    rateBps,
    pass(datagram, send) {
      if (!(link.rateBps > 0)) { send(); return; }
      const now = performance.now();
      const start = Math.max(now, linkFree);
      if (start - now > queueMs) { counters.queueDrops += 1; return; }
      // IPv4 and UDP headers count on the link.
      linkFree = start + ((datagram.length + 28) * 8 * 1000) / link.rateBps;
      const wait = linkFree - now;
      if (wait < 1) send(); else setTimeout(send, wait);
    },
  };
  return link;
}

/**
 * A relay with one direction a bottleneck (`bottleneck`): by default (`shape: 'toServer'`)
 * browser→server, what a slow uplink does to a publisher; with `shape: 'toBrowser'`
 * server→browser, a slow downlink to a viewer. The other direction passes untouched.
 * `setRate(bps)` changes the bottleneck's rate while it runs (0: unlimited). Both ends are
 * learned: the browser from `setBrowser` (or the first sender), the server from
 * `setServer`. Returns the two addresses to advertise and live counters.
 */
export async function startShapedRelay({ rateBps, queueMs, shape = 'toServer' }) {
  if (!['toServer', 'toBrowser'].includes(shape)) throw new Error(`shape ${shape}: toServer or toBrowser`);
  const browserSide = dgram.createSocket('udp4');
  const serverSide = dgram.createSocket('udp4');
  const counters = {
    toServer: 0, toBrowser: 0, queueDrops: 0, strangers: 0, early: 0, bytesToServer: 0, bytesToBrowser: 0,
  };
  const link = bottleneck({ rateBps, queueMs }, counters);
  const pass = (direction, datagram, send) => (direction === shape ? link.pass(datagram, send) : send());
  let browser = null;
  let server = null;
  const from = (rinfo, peer) => peer && rinfo.address === peer.address && rinfo.port === peer.port;
  browserSide.on('message', (datagram, rinfo) => {
    browser ??= { address: rinfo.address, port: rinfo.port };
    if (!from(rinfo, browser)) { counters.strangers += 1; return; }
    if (!server) { counters.early += 1; return; }
    pass('toServer', datagram, () => {
      counters.toServer += 1;
      counters.bytesToServer += datagram.length;
      serverSide.send(datagram, server.port, server.address);
    });
  });
  serverSide.on('message', (datagram, rinfo) => {
    if (!from(rinfo, server)) { counters.strangers += 1; return; }
    if (!browser) { counters.early += 1; return; }
    pass('toBrowser', datagram, () => {
      counters.toBrowser += 1;
      counters.bytesToBrowser += datagram.length;
      browserSide.send(datagram, browser.port, browser.address);
    });
  });
  const browserFacing = await bind(browserSide);
  const serverFacing = await bind(serverSide);
  return {
    browserFacing,
    serverFacing,
    counters,
    setBrowser: (address) => { browser ??= address; },
    setServer: (address) => { server ??= address; },
    setRate: (bps) => { link.rateBps = bps; },
    close: () => { browserSide.close(); serverSide.close(); },
  };
}
