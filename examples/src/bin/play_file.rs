//! `play_file`: streams a video file (IVF with VP8, VP9 or AV1) and/or an Ogg/Opus file to
//! a browser, rtcpeer offering a `sendonly` track for each. Signalling is one JSON line each
//! way on stdin/stdout, so any page or script can be the other side:
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin play_file -- --ivf clip.ivf --ogg clip.opus
//! ```
//!
//! It prints the offer (`{"type":"offer","sdp":"..."}`, every candidate included) on stdout,
//! reads the answer as the same JSON form on stdin, then sends the files' frames through the
//! frame API (`TrackLocal::write_frame`: the core packetizes with the negotiated codec), each
//! at its media time, looping with timestamps that keep increasing, for `--seconds N`
//! (default 10) of media. The video codec is the IVF's FourCC (`VP80`, `VP90`, `AV01`) and
//! the offer carries only that codec (VP9: profile 0) and Opus. A keyframe request from the
//! browser restarts the video file at its first frame (a keyframe) without going back in
//! time. Progress goes to stderr; the last stdout line is a JSON summary with what each
//! track sent. Options: `--ivf PATH`, `--ogg PATH` (at least one), `--seconds N`, `--linger
//! N` (seconds to keep the connection open after the summary, so that the peer can read its
//! figures while it is still up; default 0), `--ip IP` (UDP socket address, default
//! 127.0.0.1).

use rtcpeer::media::rtp_timestamp;
use rtcpeer_examples::args::Args;
use rtcpeer_examples::media::clip::Clip;
use rtcpeer_examples::media::ivf::IvfReader;
use rtcpeer_examples::media::ogg::{OPUS_RATE, OpusReader};
use rtcpeer_tokio::{
    FrameWrite, MediaCodecs, MediaKind, PeerConnection, RtcConfiguration, RtcSessionDescription,
    SdpType, SocketConfig, TrackLocal, TransceiverDirection, TransceiverId, TransceiverInit,
    new_peer_connection,
};
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: play_file [--ivf PATH] [--ogg PATH] [--seconds N] [--linger N] [--ip IP]
  --ivf PATH    video: an IVF file of VP8, VP9 or AV1 frames (the codec follows its FourCC)
  --ogg PATH    audio: an Ogg/Opus file
  --seconds N   media time to send, looping the files (default 10)
  --linger N    seconds to keep the connection open after the summary (default 0)
  --ip IP       address of the UDP socket (default 127.0.0.1)
At least one of --ivf and --ogg. Signalling: the offer as one JSON line on stdout, the answer
as one JSON line on stdin; the last stdout line is a JSON summary of what each track sent.";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Options {
    ivf: Option<String>,
    ogg: Option<String>,
    seconds: u64,
    linger: u64,
    ip: IpAddr,
}

fn options() -> Result<Options, String> {
    let args = Args::parse(std::env::args().skip(1), &[])?;
    let unknown = args.unknown(&["ivf", "ogg", "seconds", "linger", "ip"]);
    if !unknown.is_empty() {
        return Err(format!("unknown option(s): --{}", unknown.join(", --")));
    }
    let path = |name| {
        let p: String = args.get(name, String::new())?;
        Ok::<_, String>((!p.is_empty()).then_some(p))
    };
    let (ivf, ogg) = (path("ivf")?, path("ogg")?);
    if ivf.is_none() && ogg.is_none() {
        return Err("--ivf PATH or --ogg PATH (or both) is required".into());
    }
    Ok(Options {
        ivf,
        ogg,
        seconds: args.get("seconds", 10)?,
        linger: args.get("linger", 0)?,
        ip: args.get("ip", IpAddr::from([127, 0, 0, 1]))?,
    })
}

fn main() {
    rtcpeer_examples::logging::init();
    rtcpeer_examples::args::exit_if_help(USAGE);
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("play_file: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    if let Err(e) = runtime.block_on(run(options)) {
        eprintln!("play_file: {e}");
        std::process::exit(1);
    }
}

/// One file to play on one track.
struct Source {
    kind: MediaKind,
    /// The codec's name as negotiated (`VP8`, `VP9`, `AV1`, `opus`).
    codec: &'static str,
    clock_rate: u32,
    clip: Clip,
}

/// The codec an IVF FourCC stands for.
fn ivf_codec(fourcc: &[u8; 4]) -> Option<&'static str> {
    match fourcc {
        b"VP80" => Some("VP8"),
        b"VP90" => Some("VP9"),
        b"AV01" => Some("AV1"),
        _ => None,
    }
}

fn read_video(path: &str) -> Result<Source, BoxError> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut reader = IvfReader::new(file).map_err(|e| format!("{path}: {e}"))?;
    let fourcc = reader.header().fourcc;
    let codec = ivf_codec(&fourcc).ok_or_else(|| {
        format!(
            "{path}: FourCC {:?} is none of VP80, VP90, AV01",
            String::from_utf8_lossy(&fourcc)
        )
    })?;
    let timebase = reader.header().timebase;
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        frames.push(frame);
    }
    let clip = Clip::from_ivf(frames, timebase).map_err(|e| format!("{path}: {e}"))?;
    Ok(Source {
        kind: MediaKind::Video,
        codec,
        clock_rate: 90_000,
        clip,
    })
}

fn read_audio(path: &str) -> Result<Source, BoxError> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut reader = OpusReader::new(file).map_err(|e| format!("{path}: {e}"))?;
    let mut packets = Vec::new();
    while let Some(packet) = reader.next_packet()? {
        if packet.samples == 0 {
            let n = packets.len();
            return Err(format!("{path}: Opus packet {n} is malformed").into());
        }
        let length = Duration::from_micros(u64::from(packet.samples) * 1_000_000 / 48_000);
        packets.push((packet.data, length));
    }
    let clip = Clip::back_to_back(packets).map_err(|e| format!("{path}: {e}"))?;
    Ok(Source {
        kind: MediaKind::Audio,
        codec: "opus",
        clock_rate: OPUS_RATE,
        clip,
    })
}

/// Default codecs cut to those of `sources`; VP9 to profile 0 (what 8-bit 4:2:0 files are).
fn codecs_for(sources: &[Source]) -> MediaCodecs {
    let names: Vec<&str> = sources.iter().map(|s| s.codec).collect();
    let mut codecs = MediaCodecs::default().only(&names);
    codecs
        .video
        .retain(|c| !c.codec.is_named("VP9") || c.codec.fmtp_param("profile-id") == Some("0"));
    codecs
}

async fn run(options: Options) -> Result<(), BoxError> {
    let mut sources = Vec::new();
    if let Some(path) = &options.ivf {
        sources.push(read_video(path)?);
    }
    if let Some(path) = &options.ogg {
        sources.push(read_audio(path)?);
    }
    let config = RtcConfiguration {
        codecs: codecs_for(&sources),
        ..RtcConfiguration::default()
    };
    let pc = new_peer_connection(config, &SocketConfig::with_addresses([options.ip]))?;
    let mut ids = Vec::new();
    for source in &sources {
        let init = TransceiverInit {
            direction: TransceiverDirection::SendOnly,
            stream_ids: vec!["play_file".into()],
            ..TransceiverInit::default()
        };
        ids.push(pc.add_transceiver(source.kind.clone(), init).await?);
    }
    connect(&pc).await?;
    let started = Instant::now();
    let media = Duration::from_secs(options.seconds);
    let mut players = Vec::new();
    for (source, id) in sources.into_iter().zip(ids) {
        let payload_type = negotiated_payload_type(&pc, id, source.codec)?;
        let track = pc.track_local(id);
        players.push(tokio::spawn(play(
            track,
            payload_type,
            source,
            started,
            media,
        )));
    }
    let mut summary = serde_json::Map::new();
    for player in players {
        let (kind, figures) = player.await??;
        summary.insert(kind.into(), figures);
    }
    println!("{}", serde_json::Value::Object(summary));
    std::io::stdout().flush()?;
    tokio::time::sleep(Duration::from_secs(options.linger)).await;
    pc.close().await;
    Ok(())
}

/// Offers, prints the offer, reads and applies the answer, waits until connected.
async fn connect(pc: &PeerConnection) -> Result<(), BoxError> {
    let offer = pc.create_offer().await?;
    pc.set_local_description(offer).await?;
    let offer = pc.wait_gathering_complete().await?;
    let line = serde_json::json!({ "type": "offer", "sdp": offer.sdp });
    println!("{line}");
    std::io::stdout().flush()?;
    let answer = read_answer()?;
    pc.set_remote_description(answer).await?;
    tokio::time::timeout(Duration::from_secs(10), pc.wait_connected()).await??;
    eprintln!("play_file: connected");
    Ok(())
}

fn read_answer() -> Result<RtcSessionDescription, BoxError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let value: serde_json::Value = serde_json::from_str(line.trim())?;
    if value["type"] != "answer" {
        return Err(format!("expected an answer, got {value}").into());
    }
    let sdp = value["sdp"].as_str().ok_or("answer without sdp")?;
    Ok(RtcSessionDescription {
        sdp_type: SdpType::Answer,
        sdp: sdp.to_owned(),
    })
}

/// The payload type the answer agreed for `codec` on transceiver `id`.
fn negotiated_payload_type(
    pc: &PeerConnection,
    id: TransceiverId,
    codec: &str,
) -> Result<u8, BoxError> {
    let found = pc.with_core(|core| {
        let t = core.transceiver(id)?;
        let agreed = t.codecs().iter().find(|c| c.codec.is_named(codec));
        Ok(agreed.map(|c| c.payload_type))
    })?;
    Ok(found.ok_or_else(|| format!("the answer accepted no {codec}"))?)
}

/// Sets `restart` at every keyframe request the peer sends about `track`.
async fn watch_keyframe_requests(track: TrackLocal, restart: Arc<AtomicBool>) {
    while let Some(kind) = track.keyframe_request().await {
        eprintln!("play_file: keyframe request ({kind:?}): restarting the video file");
        restart.store(true, Ordering::Relaxed);
    }
}

/// Plays `source` on `track` in a loop: each frame written at `started` plus its media time,
/// until `media` of media time went out; a video track restarts at the file's first frame on
/// a keyframe request. Returns the track's kind and its figures for the summary.
async fn play(
    track: TrackLocal,
    payload_type: u8,
    source: Source,
    started: Instant,
    media: Duration,
) -> Result<(&'static str, serde_json::Value), BoxError> {
    let video = source.kind == MediaKind::Video;
    let restart = Arc::new(AtomicBool::new(false));
    if video {
        tokio::spawn(watch_keyframe_requests(track.clone(), restart.clone()));
    }
    let mut walk = source.clip.looped();
    let mut sent = 0u64;
    while walk.next_at() < media {
        if restart.swap(false, Ordering::Relaxed) {
            walk.restart();
        }
        let (at, data) = walk.next_frame();
        tokio::time::sleep_until((started + at).into()).await;
        let frame = FrameWrite {
            payload_type: Some(payload_type),
            ..FrameWrite::new(rtp_timestamp(at, source.clock_rate), data)
        };
        track.write_frame(frame).await?;
        sent += 1;
        if video && sent.is_multiple_of(30) {
            eprintln!("play_file: {sent} {} frames sent", source.codec);
        }
    }
    let kind = if video { "video" } else { "audio" };
    Ok((
        kind,
        track_figures(&track, source.codec, sent, walk.next_at()),
    ))
}

/// What the summary says about one track: frames written, the media time they cover and
/// the sender's stats.
fn track_figures(
    track: &TrackLocal,
    codec: &str,
    frames_sent: u64,
    media_sent: Duration,
) -> serde_json::Value {
    let stats = track.stats().unwrap_or_default();
    serde_json::json!({
        "codec": codec,
        "framesSent": frames_sent,
        "mediaMs": media_sent.as_millis() as u64,
        "packetsSent": stats.packets_sent,
        "bytesSent": stats.bytes_sent,
        "nackCount": stats.nack_count,
        "retransmittedPacketsSent": stats.retransmitted_packets_sent,
        "retransmissionsRefused": stats.retransmissions_refused,
        "keyframeRequests": stats.pli_count + stats.fir_count,
    })
}
