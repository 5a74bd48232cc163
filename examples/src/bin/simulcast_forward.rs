//! `simulcast_forward`: the core of a selective forwarding unit. A publisher (a browser with
//! `sendEncodings`) sends simulcast to one peer connection; one chosen layer is forwarded, at
//! the RTP level, to a subscriber on a second peer connection, which receives a single
//! ordinary video stream. Switching layers waits for a keyframe of the new layer (asked for
//! with a PLI on that layer) and continues the subscriber's sequence numbers and timestamps
//! (the core's per-source numbering, `RtpWrite::source`). Keyframe requests from the
//! subscriber go to the layer being forwarded.
//!
//! Signalling is JSON lines on stdin/stdout:
//!
//! ```text
//! in : {"type":"offer","sdp":...}     the publisher's offer (every candidate included)
//! out: {"type":"answer","sdp":...}    its answer (a=simulcast:recv ...)
//! out: {"type":"offer","sdp":...}     our offer to the subscriber (one sendonly video)
//! in : {"type":"answer","sdp":...}    the subscriber's answer
//! in : {"type":"layer","rid":"h"}     forward layer h from its next keyframe on
//! out: {"type":"switched","rid":"h"}  the first keyframe of h was forwarded
//! in : {"type":"stop"}                (or end of input) print the summary line and exit
//! ```
//!
//! Options: `--layer RID` (the first layer forwarded, default `l`), `--ip IP` (default
//! 127.0.0.1).

use rtcpeer::media::packetize::depacketizer_for;
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

const USAGE: &str = "usage: simulcast_forward [--layer RID] [--ip IP]
  reads a simulcast publisher's offer (JSON line) on stdin, answers, offers one video to a
  subscriber, forwards the chosen layer; {\"type\":\"layer\",\"rid\":R} switches layers";
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
            args.get("layer", "l".to_owned())?,
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

    let mut fwd = Forwarder {
        input: publisher.track_remote(video_in),
        output: subscriber.track_local(video_out),
        publisher: publisher.clone(),
        current: None,
        pending: Some(first_layer),
        last_request: None,
        forwarded: BTreeMap::new(),
        received: BTreeMap::new(),
        switches: Vec::new(),
    };
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
                        let rid = command["rid"].as_str().ok_or("layer without rid")?;
                        fwd.pending = Some(rid.to_owned());
                        fwd.last_request = None;
                        fwd.request_keyframe();
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
    print(serde_json::json!({
        "type": "summary",
        "received": fwd.received,
        "forwarded": fwd.forwarded,
        "switches": fwd.switches,
        "layers": layers,
    }))?;
    publisher.close().await;
    subscriber.close().await;
    Ok(())
}

struct Forwarder {
    input: TrackRemote,
    output: TrackLocal,
    publisher: PeerConnection,
    /// The layer forwarded now, and the one to switch to at its next keyframe.
    current: Option<String>,
    pending: Option<String>,
    last_request: Option<Instant>,
    /// RTP packets forwarded and received, per rid.
    forwarded: BTreeMap<String, u64>,
    received: BTreeMap<String, u64>,
    /// Layers switched to, in order.
    switches: Vec<String>,
}

impl Forwarder {
    async fn on_packet(&mut self, packet: &ReceivedRtp) -> Result<(), BoxError> {
        let Some(rid) = packet.rid.as_deref() else {
            return Ok(());
        };
        *self.received.entry(rid.to_owned()).or_default() += 1;
        if self.pending.as_deref() == Some(rid) && self.starts_keyframe(packet) {
            self.current = self.pending.take();
            self.switches.push(rid.to_owned());
            print(serde_json::json!({ "type": "switched", "rid": rid }))?;
        } else if self.pending.is_some() {
            self.request_keyframe();
        }
        if self.current.as_deref() != Some(rid) {
            return Ok(());
        }
        // The layer's SSRC is the source: a switch continues the subscriber's numbering.
        let write = RtpWrite {
            source: packet.ssrc,
            ..RtpWrite::new(
                packet.payload_type,
                packet.sequence_number,
                packet.timestamp,
                packet.marker,
                packet.payload(),
            )
        };
        match self.output.write_rtp(write).await {
            Ok(()) => *self.forwarded.entry(rid.to_owned()).or_default() += 1,
            Err(e) => tracing::debug!(%e, "simulcast_forward: packet not forwarded"),
        }
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
