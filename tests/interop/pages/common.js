// Browser-side helpers shared by the interop pages: waiting for states, echo checks of text
// and binary messages, a bulk transfer with back-pressure, and the selected candidate pair.
// Every check returns data (never throws for a failed comparison) so that the Node driver
// can print one JSON result and the Rust test can assert on it.

/**
 * Stages the running scenario has reached, with milliseconds since the page loaded, so the
 * driver can say where a run stopped when it times out.
 */
export const progress = [];
window.progress = progress;

/** Records that the scenario reached `stage` (with optional detail). */
export function mark(stage, detail) {
  progress.push(detail === undefined ? { stage, ms: Math.round(performance.now()) }
    : { stage, ms: Math.round(performance.now()), detail });
}

/** Marks every connection, ICE and DTLS transport state change of `pc`. */
export function traceStates(pc) {
  pc.addEventListener('connectionstatechange', () => mark(`connection ${pc.connectionState}`));
  pc.addEventListener('iceconnectionstatechange', () => mark(`ice ${pc.iceConnectionState}`));
  pc.addEventListener('signalingstatechange', () => mark(`signaling ${pc.signalingState}`));
}

/** Live counters of the bulk transfer in progress (read by the driver on a timeout). */
export const bulkProgress = { sent: 0, received: 0, bufferedAmount: 0 };
window.bulkProgress = bulkProgress;

/** Resolves when `pc.iceGatheringState` is "complete" (non-trickle signalling). */
export function gatheringComplete(pc, timeoutMs = 10000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return withTimeout(new Promise((resolve) => {
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  }), timeoutMs, 'ICE gathering');
}

/** Resolves when the channel is open, rejects if it closes first or the timeout passes. */
export function channelOpen(channel, timeoutMs = 10000) {
  if (channel.readyState === 'open') return Promise.resolve();
  return withTimeout(new Promise((resolve, reject) => {
    channel.addEventListener('open', () => resolve(), { once: true });
    channel.addEventListener('close', () => reject(new Error('channel closed before open')), { once: true });
  }), timeoutMs, `channel "${channel.label}" open`);
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Deterministic payload of `size` bytes; `seed` makes messages distinguishable. */
export function pattern(size, seed) {
  const bytes = new Uint8Array(size);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** Deterministic ASCII text of `size` bytes (one UTF-8 byte per character). */
export function textPattern(size, seed) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,';
  const bytes = pattern(size, seed);
  let out = '';
  for (let i = 0; i < size; i++) out += alphabet[bytes[i] & 63];
  return out;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Queue of received messages so that a check can await "the next message". */
export function messageQueue(channel) {
  const queued = [];
  const waiters = [];
  channel.binaryType = 'arraybuffer';
  channel.addEventListener('message', (e) => {
    const waiter = waiters.shift();
    if (waiter) waiter(e.data); else queued.push(e.data);
  });
  return {
    /** The next message; a timed-out wait gives up its place, so no message is lost. */
    next(timeoutMs = 10000) {
      if (queued.length) return Promise.resolve(queued.shift());
      let waiter;
      const message = new Promise((resolve) => {
        waiter = resolve;
        waiters.push(resolve);
      });
      return withTimeout(message, timeoutMs, 'echo').catch((e) => {
        const at = waiters.indexOf(waiter);
        if (at >= 0) waiters.splice(at, 1);
        throw e;
      });
    },
  };
}

/**
 * Confirms that messages sent on a channel announced by `datachannel` reach the echo server,
 * before any check counts on it.
 *
 * Chromium races here: the announced channel reads "open" while its network thread may not yet
 * have finished the DCEP handshake (sent the DATA_CHANNEL_ACK); a send in that window is
 * dropped inside Chromium (its log says "Send failed INVALID_STATE", the channel's
 * messagesSent stays 0) and nothing reaches the wire. So: send numbered probes until one
 * comes back, then take the echoes of the probes sent after it, which follow in order on an
 * ordered reliable channel. Returns `{probes, lostInBrowser}`; throws if none comes back.
 */
export async function confirmEchoPath(channel, queue, { everyMs = 100, timeoutMs = 10000 } = {}) {
  const until = performance.now() + timeoutMs;
  let sent = 0;
  let first = null;
  while (first === null && performance.now() < until) {
    channel.send(`probe ${sent}`);
    sent += 1;
    const got = await queue.next(everyMs).catch(() => null);
    if (got !== null) first = got;
  }
  if (first === null) throw new Error(`no echo of ${sent} probes within ${timeoutMs} ms`);
  const echoed = /^probe (\d+)$/.exec(first);
  if (!echoed) throw new Error(`expected a probe echo, got ${String(first).slice(0, 40)}`);
  for (let n = Number(echoed[1]) + 1; n < sent; n++) {
    const got = await queue.next();
    if (got !== `probe ${n}`) throw new Error(`expected the echo of probe ${n}, got ${String(got).slice(0, 40)}`);
  }
  mark('echo path confirmed', { probes: sent, lostInBrowser: Number(echoed[1]) });
  return { probes: sent, lostInBrowser: Number(echoed[1]) };
}

/**
 * Sends one text and one binary message of each size and checks that each comes back
 * unchanged and with the same kind (string stays string, binary stays binary).
 * Returns `[{kind, size, ok, error?}]`.
 */
export async function echoChecks(channel, queue, sizes) {
  const results = [];
  for (const [i, size] of sizes.entries()) {
    for (const kind of ['text', 'binary']) {
      const seed = i * 2 + (kind === 'binary' ? 1 : 0);
      const sent = kind === 'text' ? textPattern(size, seed) : pattern(size, seed);
      try {
        channel.send(sent);
        const got = await queue.next();
        let ok;
        if (kind === 'text') ok = typeof got === 'string' && got === sent;
        else ok = got instanceof ArrayBuffer && sameBytes(new Uint8Array(got), sent);
        const gotKind = typeof got === 'string' ? 'text' : 'binary';
        const gotSize = typeof got === 'string' ? got.length : got.byteLength;
        results.push(ok ? { kind, size, ok } : { kind, size, ok, error: `got ${gotKind} of ${gotSize} bytes` });
      } catch (e) {
        // An echo that never came back means the channel is stuck: stop here (the rest would
        // only wait out their timeouts) and report it with the transport's figures.
        results.push({ kind, size, ok: false, error: String(e) });
        mark('echo timed out', { kind, size });
        return results;
      }
    }
  }
  return results;
}

/**
 * Sends `totalBytes` in `chunk`-byte binary messages, keeping at most `highWater` bytes
 * buffered, and checks that every echoed message arrives in order with its exact content.
 * Returns `{bytes, messages, ok, mismatches, seconds, mbps}`.
 */
export async function bulkEcho(channel, queue, totalBytes, chunk, highWater = 1 << 20) {
  const count = Math.ceil(totalBytes / chunk);
  const variants = 61; // distinct payloads, so reordering and duplication are caught
  const payloads = Array.from({ length: variants }, (_, v) => pattern(chunk, 1000 + v));
  channel.bufferedAmountLowThreshold = highWater / 2;
  const started = performance.now();
  mark('bulk start', { count, chunk });
  let mismatches = 0;
  let firstMismatch = null;
  const receiving = (async () => {
    for (let i = 0; i < count; i++) {
      const got = await queue.next(30000);
      bulkProgress.received = i + 1;
      const ok = got instanceof ArrayBuffer && sameBytes(new Uint8Array(got), payloads[i % variants]);
      if (!ok) {
        mismatches++;
        if (firstMismatch === null) firstMismatch = i;
      }
    }
  })();
  for (let i = 0; i < count; i++) {
    if (channel.bufferedAmount > highWater) {
      await withTimeout(new Promise((resolve) => {
        channel.addEventListener('bufferedamountlow', resolve, { once: true });
      }), 30000, 'bufferedamountlow');
    }
    channel.send(payloads[i % variants]);
    bulkProgress.sent = i + 1;
    bulkProgress.bufferedAmount = channel.bufferedAmount;
  }
  mark('bulk all sent');
  await receiving;
  mark('bulk all received');
  const seconds = (performance.now() - started) / 1000;
  const bytes = count * chunk;
  return {
    bytes, messages: count, ok: mismatches === 0, mismatches, firstMismatch, seconds,
    mbps: bytes / 1e6 / seconds,
  };
}

/** The local and remote candidates of the transport's selected pair, from getStats(). */
export async function selectedPair(pc) {
  const stats = await pc.getStats();
  let pairId = null;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  if (pairId === null) {
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pairId = s.id;
    });
  }
  const pair = pairId && stats.get(pairId);
  if (!pair) return null;
  const describe = (c) => c && {
    address: c.address, port: c.port, protocol: c.protocol, candidateType: c.candidateType,
  };
  return {
    state: pair.state,
    local: describe(stats.get(pair.localCandidateId)),
    remote: describe(stats.get(pair.remoteCandidateId)),
  };
}

/**
 * Figures that tell a stuck transport from a stuck peer: the transport's bytes and DTLS
 * state, the selected pair's request/response counts, and each data channel's messages.
 */
export async function transportFigures(pc) {
  const stats = await pc.getStats();
  const out = { connectionState: pc.connectionState, sctpState: pc.sctp?.state ?? null, transports: [], channels: [] };
  stats.forEach((s) => {
    if (s.type === 'transport') {
      out.transports.push({
        dtlsState: s.dtlsState, bytesSent: s.bytesSent, bytesReceived: s.bytesReceived,
        packetsSent: s.packetsSent, packetsReceived: s.packetsReceived, dtlsRole: s.dtlsRole,
      });
    }
    if (s.type === 'data-channel') {
      out.channels.push({
        label: s.label, id: s.dataChannelIdentifier, state: s.state, messagesSent: s.messagesSent,
        messagesReceived: s.messagesReceived, bytesSent: s.bytesSent, bytesReceived: s.bytesReceived,
      });
    }
  });
  return out;
}

/** `a=candidate` lines of an SDP, parsed into {address, port, protocol, type}. */
export function sdpCandidates(sdp) {
  const out = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ (\S+)/.exec(line);
    if (m) out.push({ protocol: m[1].toLowerCase(), address: m[2], port: Number(m[3]), type: m[4] });
  }
  return out;
}
