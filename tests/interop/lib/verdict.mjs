// Pass/fail rules applied to the data a page returns. Kept apart from the page so the page
// only measures and the driver judges.

const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** Failures of a list of echo checks (`[{kind, size, ok, error?}]`). */
export function echoFailures(echoes, expectedCount) {
  if (!Array.isArray(echoes)) return [`expected ${expectedCount} echo checks, got none`];
  const failures = echoes.filter((e) => !e.ok).map((e) => `echo ${e.kind} ${e.size} B: ${e.error}`);
  if (echoes.length !== expectedCount) failures.push(`expected ${expectedCount} echo checks, got ${echoes.length}`);
  return failures;
}

/**
 * Every offered candidate is a UDP candidate of `type` (host unless a TURN run) on loopback,
 * and there is at least one.
 */
export function candidateFailures(label, candidates, type = 'host') {
  if (!candidates?.length) return [`${label}: no candidates`];
  return candidates
    .filter((c) => !LOOPBACK.has(c.address) || c.type !== type)
    .map((c) => `${label}: non-loopback or non-${type} candidate ${c.type} ${c.address}:${c.port}`);
}

/** The selected pair joins two loopback candidates of the expected types (host by default). */
export function selectedFailures(selected, types = { local: 'host', remote: 'host' }) {
  if (!selected?.local || !selected?.remote) return ['no selected candidate pair in getStats()'];
  const failures = [];
  for (const side of ['local', 'remote']) {
    const c = selected[side];
    if (!LOOPBACK.has(c.address)) failures.push(`selected ${side} candidate is ${c.address}, not loopback`);
    if (c.candidateType !== types[side]) failures.push(`selected ${side} candidate is ${c.candidateType}, not ${types[side]}`);
  }
  return failures;
}

export function bulkFailures(bulk, expectedBytes) {
  if (!bulk) return ['no bulk transfer result'];
  const failures = [];
  if (bulk.bytes < expectedBytes) failures.push(`bulk moved ${bulk.bytes} of ${expectedBytes} bytes`);
  if (bulk.error) failures.push(`bulk: ${bulk.error}`);
  else if (!bulk.ok) failures.push(`bulk: ${bulk.mismatches} messages wrong, first at #${bulk.firstMismatch}`);
  return failures;
}

export function selftestVerdict(run) {
  return [
    ...candidateFailures('offer', run.offerCandidates),
    ...candidateFailures('answer', run.answerCandidates),
    ...selectedFailures(run.selected),
    ...echoFailures(run.echoes, 10),
    ...bulkFailures(run.bulk, 4 << 20),
  ];
}

/**
 * Failures of one echo-server run (`browser-offers` or `server-offers`). `turn`: null, or which end relays through TURN ('browser': the page's local candidate,
 * 'server': the server's candidates, the page's remote one).
 */
export function echoRunFailures(run, { sizes, bulkBytes, turn = null }) {
  const label = run.mode;
  if (run.error) return [`${label}: ${run.status} ${run.answerStatus ?? ''} ${run.error}`];
  const failures = [];
  if (run.status !== 201) failures.push(`${label}: status ${run.status}, expected 201`);
  if (!/^\/sessions\/[0-9a-f]+$/.test(run.location ?? '')) failures.push(`${label}: Location ${run.location}`);
  if (run.mode === 'browser-offers' && !/^application\/sdp/.test(run.contentType ?? '')) {
    failures.push(`${label}: Content-Type ${run.contentType}`);
  }
  if (run.mode === 'server-offers' && run.answerStatus !== 204) failures.push(`${label}: PUT answer ${run.answerStatus}`);
  const serverType = turn === 'server' ? 'relay' : 'host';
  failures.push(...candidateFailures(`${label} server SDP`, run.serverCandidates, serverType));
  if (!(run.serverMaxMessageSize >= 262144)) {
    failures.push(`${label}: server a=max-message-size ${run.serverMaxMessageSize}, expected >= 262144`);
  }
  const types = { local: turn === 'browser' ? 'relay' : 'host', remote: serverType };
  failures.push(...selectedFailures(run.selected, types).map((f) => `${label}: ${f}`));
  failures.push(...echoFailures(run.echoes, sizes.length * 2).map((f) => `${label}: ${f}`));
  if (bulkBytes > 0) failures.push(...bulkFailures(run.bulk, bulkBytes).map((f) => `${label}: ${f}`));
  if (run.deleteStatus !== 204 && run.deleteStatus !== 404) failures.push(`${label}: DELETE ${run.deleteStatus}`);
  if (run.sessionsAfterClose !== 0) failures.push(`${label}: ${run.sessionsAfterClose} sessions alive after close`);
  return failures;
}

/**
 * Failures of a media echo run (`pages/media.html`): the data channel echoes before and after
 * media; with media echoed, the browser decodes the echoed video (> 30 frames within 10 s,
 * still rising later, no freezes) and receives the echoed audio (> 100 packets, little
 * concealment) in the codec asked for; with media declined, the answer was accepted, no
 * track arrived and every media transceiver ended up rejected.
 */
export function mediaFailures(run, { expectMedia, codec }) {
  if (run.error) return [run.error];
  const failures = [...echoFailures(run.echoes, 6), ...echoFailures(run.lateEchoes, 2), ...selectedFailures(run.selected)];
  if (run.status !== 201) failures.push(`POST /offer answered ${run.status}`);
  const video = run.figures?.inbound?.video;
  const audio = run.figures?.inbound?.audio;
  if (!expectMedia) {
    if (run.tracks?.length) failures.push(`tracks arrived although media was declined: ${JSON.stringify(run.tracks)}`);
    const live = (run.transceivers ?? []).filter((t) => t.currentDirection && t.currentDirection !== 'stopped');
    if (live.length) failures.push(`media transceivers not rejected: ${JSON.stringify(live)}`);
    return failures;
  }
  if (!((video?.framesDecoded ?? 0) > 30)) failures.push(`echoed video: ${video?.framesDecoded ?? 0} frames decoded in ${run.figures?.waitedMs} ms (want > 30)`);
  if (!((audio?.packetsReceived ?? 0) > 100)) failures.push(`echoed audio: ${audio?.packetsReceived ?? 0} packets (want > 100)`);
  const later = run.later?.inbound?.video;
  if (!((later?.framesDecoded ?? 0) > (video?.framesDecoded ?? 0))) failures.push('echoed video stopped decoding');
  if ((later?.freezeCount ?? 0) > 1) failures.push(`echoed video froze ${later.freezeCount} times`);
  const laterAudio = run.later?.inbound?.audio;
  if (laterAudio && laterAudio.totalSamplesReceived > 0 && laterAudio.concealedSamples / laterAudio.totalSamplesReceived > 0.2) {
    failures.push(`echoed audio: ${laterAudio.concealedSamples} of ${laterAudio.totalSamplesReceived} samples concealed`);
  }
  if (codec && !(video?.codec ?? '').toLowerCase().endsWith(codec.toLowerCase())) {
    failures.push(`echoed video codec ${video?.codec}, wanted ${codec}`);
  }
  return failures;
}

/** Opus's RTP clock: samples per millisecond. */
const OPUS_SAMPLES_PER_MS = 48;

/**
 * Verdict of `play-file`: `run.summary` is what the player says it sent per track,
 * `run.figures` what Chromium reports once it all arrived. Video: at least 90 % of the
 * frames sent decoded (95 % through a lossy relay), the codec of the file, no freeze on a
 * clean link. Audio: packets received, and decoded (not concealed) samples covering at least
 * 90 % of the media time sent while the total stays within what could have played by the
 * time of reading. Lossy relay: it dropped RTP, Chromium sent NACKs, the player
 * retransmitted, and Chromium's selected pair ends at the relay.
 */
export function playFailures(run, { codec, audio, loss }) {
  const failures = [];
  if (codec) failures.push(...playedVideoFailures(run, codec, loss));
  if (audio) failures.push(...playedAudioFailures(run));
  if (loss > 0) failures.push(...lossyRelayFailures(run));
  return failures;
}

function playedVideoFailures(run, codec, loss) {
  const failures = [];
  const sent = run.summary?.video?.framesSent ?? 0;
  const video = run.figures?.inbound?.video ?? {};
  const share = loss > 0 ? 0.95 : 0.9;
  if (!sent) failures.push('the player sent no video frame');
  if (!((video.framesDecoded ?? 0) >= share * sent)) {
    failures.push(`Chromium decoded ${video.framesDecoded ?? 0} of ${sent} frames (want >= ${share * 100} %)`);
  }
  if (!(video.codec ?? '').toLowerCase().endsWith(codec.toLowerCase())) failures.push(`codec ${video.codec}, not ${codec}`);
  if (loss === 0 && video.freezeCount !== 0) failures.push(`freezeCount ${video.freezeCount} on a clean link (want 0)`);
  return failures;
}

function playedAudioFailures(run) {
  const failures = [];
  const sentMs = run.summary?.audio?.mediaMs ?? 0;
  const audio = run.figures?.inbound?.audio ?? {};
  if (!sentMs) failures.push('the player sent no audio');
  if (!((audio.packetsReceived ?? 0) > 0)) failures.push('Chromium received no audio packet');
  if (!(audio.codec ?? '').toLowerCase().endsWith('opus')) failures.push(`audio codec ${audio.codec}, not Opus`);
  const total = audio.totalSamplesReceived ?? 0;
  const decoded = total - (audio.concealedSamples ?? 0);
  if (!(decoded >= 0.9 * OPUS_SAMPLES_PER_MS * sentMs)) {
    failures.push(`Chromium played ${decoded} decoded samples for ${sentMs} ms of audio sent (want >= 90 %)`);
  }
  // Playout ran from the first packet until the figures were read (about a second after
  // the last packet): more than that is not the sender's audio.
  const mostMs = sentMs + 2500;
  if (!(total <= OPUS_SAMPLES_PER_MS * mostMs)) {
    failures.push(`totalSamplesReceived ${total} is more than ${mostMs} ms of audio`);
  }
  return failures;
}

function lossyRelayFailures(run) {
  const failures = [];
  const relay = run.relay ?? {};
  const video = run.figures?.inbound?.video ?? {};
  if (!(relay.rtpDropped > 0)) failures.push(`the relay dropped no RTP: ${JSON.stringify(relay)}`);
  if (!(video.nackCount > 0)) failures.push(`Chromium sent no NACK (nackCount ${video.nackCount})`);
  const resent = run.summary?.video?.retransmittedPacketsSent ?? 0;
  if (!(resent > 0)) failures.push(`the player retransmitted nothing (retransmittedPacketsSent ${resent})`);
  const remote = run.figures?.selected?.remote;
  const at = relay.browserFacing;
  if (!(remote && at && remote.address === at.address && remote.port === at.port)) {
    failures.push(`Chromium's selected pair does not end at the relay ${JSON.stringify(at)}: ${JSON.stringify(run.figures?.selected)}`);
  }
  return failures;
}
