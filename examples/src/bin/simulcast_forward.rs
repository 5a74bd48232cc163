//! `simulcast_forward`: the core of a selective forwarding unit. A publisher (a browser with
//! `sendEncodings`) sends simulcast to one peer connection; one layer is forwarded, at the
//! RTP level, to a subscriber on a second peer connection, which receives a single ordinary
//! video stream. The layer is chosen by the subscriber connection's bandwidth estimate
//! (its transport-cc feedback drives rtcpeer's send-side estimator): a
//! [`LayerSelector`] measures each layer's rate as it
//! arrives and picks the highest that fits under 80 % of the estimate, going up after the
//! estimate has allowed it for 2 s and down at once when the layer forwarded exceeds the
//! estimate. Switching layers waits for a keyframe of the new layer (asked for with a PLI
//! on that layer) and continues the subscriber's sequence numbers and timestamps (the
//! core's per-source numbering, `RtpWrite::source`) and its VP8 picture ids and TL0PICIDX
//! (`Vp8NumberingRewriter`). Keyframe requests from the subscriber go to the layer being
//! forwarded.
//!
//! Signalling is JSON lines on stdin/stdout:
//!
//! ```text
//! in : {"type":"offer","sdp":...}     the publisher's offer (every candidate included)
//! out: {"type":"answer","sdp":...}    its answer (a=simulcast:recv ...)
//! out: {"type":"offer","sdp":...}     our offer to the subscriber (one sendonly video)
//! in : {"type":"answer","sdp":...}    the subscriber's answer
//! in : {"type":"layer","rid":"h"}     forward layer h from its next keyframe on, whatever
//!                                     the estimate says ("auto": back to the estimate)
//! out: {"type":"switched","rid":"h","atMs":..,"estimateBps":..,"layerBps":{..}}
//!                                     the first keyframe of h was forwarded
//! in : {"type":"stop"}                (or end of input) print the summary line and exit
//! ```
//!
//! Options: `--layer RID|auto` (default `auto`: the estimate chooses, starting from the
//! cheapest layer; a rid forwards that layer until told otherwise), `--ip IP` (default
//! 127.0.0.1).

use rtcpeer::media::packetize::depacketizer_for;
use rtcpeer::media::vp8::Vp8NumberingRewriter;
use rtcpeer::media::{LayerSelector, LayerSelectorConfig};
use rtcpeer_examples::args::{Args, exit_if_help};
use rtcpeer_tokio::{
    KeyframeRequestKind, MediaCodecs, MediaKind, PeerConnection, ReceivedRtp, RtcConfiguration,
    RtcSessionDescription, RtpWrite, SdpType, SocketConfig, TrackLocal, TrackRemote,
    TransceiverDirection, TransceiverInit, new_peer_connection,
};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: simulcast_forward [--layer RID|auto] [--ip IP]
  reads a simulcast publisher's offer (JSON line) on stdin, answers, offers one video to a
  subscriber and forwards one layer: the one the subscriber's bandwidth estimate allows
  (auto, the default), or RID; {\"type\":\"layer\",\"rid\":R} switches (R auto: the estimate)";
/// The `--layer` value (and `layer` command) that lets the estimate choose.
const AUTO: &str = "auto";
/// How often the chosen layer, the estimate and the layers' rates are logged.
const STATUS_INTERVAL: Duration = Duration::from_secs(1);
/// Least time between two keyframe requests for a layer we wait to switch to.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(300);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    exit_if_help(USAGE);
    rtcpeer_examples::logging::init();
    let parsed = Args::parse(std::env::args().skip(1), &[]).and_then(|args| {
        let unknown = args.unknown(&["layer", "ip"]);
        if !unknown.is_empty() {
            return Err(format!("unknown option(s): --{}", unknown.join(", --")));
        }
        Ok((
            args.get("layer", AUTO.to_owned())?,
            args.get("ip", IpAddr::from([127, 0, 0, 1]))?,
        ))
    });
    let (layer, ip) = match parsed {
        Ok(o) => o,
        Err(e) => {
            eprintln!("simulcast_forward: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    if let Err(e) = runtime.block_on(run(layer, ip)) {
        eprintln!("simulcast_forward: {e}");
        std::process::exit(1);
    }
}

fn print(value: serde_json::Value) -> Result<(), BoxError> {
    println!("{value}");
    std::io::stdout().flush()?;
    Ok(())
}

fn description(
    value: &serde_json::Value,
    want: SdpType,
) -> Result<RtcSessionDescription, BoxError> {
    let sdp = value["sdp"].as_str().ok_or("a description without sdp")?;
    Ok(RtcSessionDescription {
        sdp_type: want,
        sdp: sdp.to_owned(),
    })
}

async fn run(first_layer: String, ip: IpAddr) -> Result<(), BoxError> {
    // Stdin is read on a thread of its own; each line arrives as a message.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut next = async || -> Result<serde_json::Value, BoxError> {
        let line = rx.recv().await.unwrap_or_default();
        Ok(serde_json::from_str(line.trim()).unwrap_or(serde_json::json!({"type": "stop"})))
    };
    let config = || RtcConfiguration {
        codecs: MediaCodecs::default().only(&["VP8"]),
        ..RtcConfiguration::default()
    };
    let sockets = SocketConfig::with_addresses([ip]);
    // The publisher's side: answer its simulcast offer.
    let publisher = new_peer_connection(config(), &sockets)?;
    publisher
        .set_remote_description(description(&next().await?, SdpType::Offer)?)
        .await?;
    let answer = publisher.create_answer().await?;
    publisher.set_local_description(answer).await?;
    let answer = publisher.wait_gathering_complete().await?;
    print(serde_json::json!({ "type": "answer", "sdp": answer.sdp }))?;
    let video_in = publisher.with_core(|core| {
        let ids = core.transceivers();
        Ok(ids.into_iter().find(|&id| {
            core.transceiver(id)
                .is_ok_and(|t| *t.kind() == MediaKind::Video)
        }))
    })?;
    let video_in = video_in.ok_or("the publisher offered no video")?;
    // The subscriber's side: one sendonly video.
    let subscriber = new_peer_connection(config(), &sockets)?;
    let init = TransceiverInit {
        direction: TransceiverDirection::SendOnly,
        stream_ids: vec!["forwarded".into()],
        ..TransceiverInit::default()
    };
    let video_out = subscriber.add_transceiver(MediaKind::Video, init).await?;
    let offer = subscriber.create_offer().await?;
    subscriber.set_local_description(offer).await?;
    let offer = subscriber.wait_gathering_complete().await?;
    print(serde_json::json!({ "type": "offer", "sdp": offer.sdp }))?;
    subscriber
        .set_remote_description(description(&next().await?, SdpType::Answer)?)
        .await?;
    tokio::time::timeout(Duration::from_secs(10), publisher.wait_connected()).await??;
    tokio::time::timeout(Duration::from_secs(10), subscriber.wait_connected()).await??;
    eprintln!("simulcast_forward: both connected; forwarding {first_layer}");

    let mut fwd = Forwarder::new(
        publisher.track_remote(video_in),
        subscriber.track_local(video_out),
        publisher.clone(),
        subscriber.clone(),
    );
    fwd.set_layer(&first_layer);
    loop {
        tokio::select! {
            packet = fwd.input.read_rtp() => {
                let Some(packet) = packet else { break };
                fwd.on_packet(&packet).await?;
            }
            command = next() => {
                let command = command?;
                match command["type"].as_str() {
                    Some("layer") => {
                        fwd.set_layer(command["rid"].as_str().ok_or("layer without rid")?);
                    }
                    _ => break,
                }
            }
            request = fwd.output.keyframe_request() => {
                if request.is_some() {
                    fwd.last_request = None;
                    fwd.request_keyframe();
                }
            }
        }
    }
    let layers: Vec<serde_json::Value> = publisher
        .track_remote(video_in)
        .stats()
        .iter()
        .map(|s| serde_json::json!({"rid": s.rid, "ssrc": s.ssrc, "packetsReceived": s.packets_received}))
        .collect();
    let switches: Vec<&str> = fwd.switches.iter().map(|s| s.rid.as_str()).collect();
    print(serde_json::json!({
        "type": "summary",
        "received": fwd.received,
        "forwarded": fwd.forwarded,
        "switches": switches,
        "switchLog": fwd.switches.iter().map(Switch::to_json).collect::<Vec<_>>(),
        "estimateBps": fwd.estimate(),
        "layers": layers,
    }))?;
    publisher.close().await;
    subscriber.close().await;
    Ok(())
}

/// One switch of the forwarded layer, as reported.
struct Switch {
    rid: String,
    /// Milliseconds since forwarding began.
    at_ms: u128,
    estimate_bps: Option<u64>,
    layer_bps: BTreeMap<String, Option<u64>>,
}

impl Switch {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "rid": self.rid,
            "atMs": self.at_ms as u64,
            "estimateBps": self.estimate_bps,
            "layerBps": self.layer_bps,
        })
    }
}

struct Forwarder {
    input: TrackRemote,
    output: TrackLocal,
    publisher: PeerConnection,
    subscriber: PeerConnection,
    /// Chooses the layer from the subscriber's estimate, unless a layer is forced.
    selector: LayerSelector,
    forced: Option<String>,
    /// Continuous VP8 picture ids and TL0PICIDX for the subscriber across switches.
    vp8_numbering: Vp8NumberingRewriter,
    /// The layer forwarded now, and the one to switch to at its next keyframe.
    current: Option<String>,
    pending: Option<String>,
    last_request: Option<Instant>,
    started: Instant,
    last_status: Option<Instant>,
    /// RTP packets forwarded and received, per rid.
    forwarded: BTreeMap<String, u64>,
    received: BTreeMap<String, u64>,
    /// Layers switched to, in order.
    switches: Vec<Switch>,
}

impl Forwarder {
    fn new(
        input: TrackRemote,
        output: TrackLocal,
        publisher: PeerConnection,
        subscriber: PeerConnection,
    ) -> Self {
        Self {
            input,
            output,
            publisher,
            subscriber,
            selector: LayerSelector::new(LayerSelectorConfig::default()),
            forced: None,
            vp8_numbering: Vp8NumberingRewriter::default(),
            current: None,
            pending: None,
            last_request: None,
            started: Instant::now(),
            last_status: None,
            forwarded: BTreeMap::new(),
            received: BTreeMap::new(),
            switches: Vec::new(),
        }
    }

    /// Forwards `rid` from now on (from its next keyframe), or lets the estimate choose
    /// again when `rid` is [`AUTO`].
    fn set_layer(&mut self, rid: &str) {
        self.forced = (rid != AUTO).then(|| rid.to_owned());
        if let Some(rid) = self.forced.clone() {
            self.want(rid);
        }
    }

    /// Makes `rid` the layer to switch to (at its next keyframe, asked for now), unless it
    /// is forwarded already.
    fn want(&mut self, rid: String) {
        if self.current.as_deref() == Some(rid.as_str()) {
            self.pending = None;
            return;
        }
        if self.pending.as_deref() != Some(rid.as_str()) {
            self.pending = Some(rid);
            self.last_request = None;
            self.request_keyframe();
        }
    }

    /// The subscriber connection's bandwidth estimate (its send-side estimator's target),
    /// once its transport-cc feedback drives one.
    fn estimate(&self) -> Option<u64> {
        self.subscriber
            .with_core(|core| Ok(core.bandwidth_estimate().map(|s| s.target_bps)))
            .ok()
            .flatten()
    }

    /// Each layer's measured rate now.
    fn layer_rates(&self, now: Instant) -> BTreeMap<String, Option<u64>> {
        self.received
            .keys()
            .map(|rid| (rid.clone(), self.selector.layer_bitrate(rid, now)))
            .collect()
    }

    /// Lets the estimate choose the layer (unless one is forced); logs now and then.
    fn follow_estimate(&mut self, now: Instant) {
        let estimate = self.estimate();
        let chosen = self.selector.select(estimate, now).map(str::to_owned);
        if self.forced.is_none()
            && let Some(rid) = chosen.clone()
        {
            self.want(rid);
        }
        if self
            .last_status
            .is_none_or(|at| now - at >= STATUS_INTERVAL)
        {
            self.last_status = Some(now);
            tracing::info!(
                ?estimate, ?chosen, current = ?self.current, pending = ?self.pending,
                rates = ?self.layer_rates(now), "simulcast_forward: status"
            );
        }
    }

    async fn on_packet(&mut self, packet: &ReceivedRtp) -> Result<(), BoxError> {
        let Some(rid) = packet.rid.as_deref() else {
            return Ok(());
        };
        let now = Instant::now();
        *self.received.entry(rid.to_owned()).or_default() += 1;
        self.selector.on_packet(rid, packet.packet.len(), now);
        self.follow_estimate(now);
        if self.pending.as_deref() == Some(rid) && self.starts_keyframe(packet) {
            self.current = self.pending.take();
            self.record_switch(rid, now)?;
        } else if self.pending.is_some() {
            self.request_keyframe();
        }
        if self.current.as_deref() != Some(rid) {
            return Ok(());
        }
        // The layer's SSRC is the source: a switch continues the subscriber's numbering,
        // RTP's in the core and VP8's picture ids and TL0PICIDX here.
        let mut payload = packet.payload().to_vec();
        self.vp8_numbering.rewrite(packet.ssrc, &mut payload);
        let write = RtpWrite {
            source: packet.ssrc,
            ..RtpWrite::new(
                packet.payload_type,
                packet.sequence_number,
                packet.timestamp,
                packet.marker,
                &payload,
            )
        };
        match self.output.write_rtp(write).await {
            Ok(()) => *self.forwarded.entry(rid.to_owned()).or_default() += 1,
            Err(e) => tracing::debug!(%e, "simulcast_forward: packet not forwarded"),
        }
        Ok(())
    }

    /// Notes and announces that `rid` is forwarded from now on.
    fn record_switch(&mut self, rid: &str, now: Instant) -> Result<(), BoxError> {
        let switch = Switch {
            rid: rid.to_owned(),
            at_ms: (now - self.started).as_millis(),
            estimate_bps: self.estimate(),
            layer_bps: self.layer_rates(now),
        };
        tracing::info!(rid, estimate = ?switch.estimate_bps, rates = ?switch.layer_bps, "simulcast_forward: switched");
        let mut line = switch.to_json();
        line["type"] = "switched".into();
        print(line)?;
        self.switches.push(switch);
        Ok(())
    }

    /// Whether `packet` is the first packet of a keyframe (VP8's payload descriptor says).
    fn starts_keyframe(&self, packet: &ReceivedRtp) -> bool {
        let codec = self.publisher.with_core(|core| {
            Ok(core
                .transceiver(packet.transceiver)?
                .codec(packet.payload_type)
                .map(|c| c.codec.clone()))
        });
        let Some(depacketizer) = codec.ok().flatten().as_ref().and_then(depacketizer_for) else {
            return false;
        };
        depacketizer.is_frame_start(packet.payload()) && depacketizer.is_keyframe(packet.payload())
    }

    /// A PLI for the layer wanted (the pending one, else the current one), throttled.
    fn request_keyframe(&mut self) {
        let Some(rid) = self.pending.clone().or_else(|| self.current.clone()) else {
            return;
        };
        let now = Instant::now();
        if self
            .last_request
            .is_some_and(|at| now - at < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        self.last_request = Some(now);
        if let Err(e) = self
            .input
            .request_layer_keyframe(&rid, KeyframeRequestKind::Pli)
        {
            tracing::debug!(%e, "simulcast_forward: keyframe request not sent");
        }
    }
}
