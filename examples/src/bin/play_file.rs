//! `play_file`: streams a VP8 IVF file to a browser, rtcpeer offering a `sendonly` video
//! track. Signalling is one JSON line each way on stdin/stdout, so any page or script can be
//! the other side:
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin play_file -- --ivf clip.ivf
//! ```
//!
//! It prints the offer (`{"type":"offer","sdp":"..."}`, every candidate included) on stdout,
//! reads the answer as the same JSON form on stdin, then sends the file's frames at their
//! pace, looping, for `--seconds N` (default 10), packetized as RFC 7741 VP8. A keyframe
//! request from the browser restarts the file (its first frame is a keyframe). Progress goes
//! to stderr; the last stdout line is a JSON summary. Options: `--ivf PATH` (required),
//! `--seconds N`, `--ip IP` (UDP socket address, default 127.0.0.1).

use rtcpeer::media::packetize::Packetizer;
use rtcpeer::media::packetize::vp8::Vp8Packetizer;
use rtcpeer_examples::args::Args;
use rtcpeer_examples::media::ivf::{IvfFrame, IvfReader};
use rtcpeer_tokio::{
    MediaCodecs, MediaKind, RtcConfiguration, RtcSessionDescription, RtpWrite, SdpType,
    SocketConfig, TrackLocal, TransceiverDirection, TransceiverInit, new_peer_connection,
};
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: play_file --ivf PATH [--seconds N] [--ip IP]";
/// Largest RTP payload: keeps SRTP datagrams well under a 1,280-byte path MTU.
const MAX_PAYLOAD: usize = 1100;
const VP8_CLOCK: u32 = 90_000;

struct Options {
    ivf: String,
    seconds: u64,
    ip: IpAddr,
}

fn options() -> Result<Options, String> {
    let args = Args::parse(std::env::args().skip(1), &[])?;
    let unknown = args.unknown(&["ivf", "seconds", "ip"]);
    if !unknown.is_empty() {
        return Err(format!("unknown option(s): --{}", unknown.join(", --")));
    }
    let ivf: String = args.get("ivf", String::new())?;
    if ivf.is_empty() {
        return Err("--ivf PATH is required".into());
    }
    Ok(Options {
        ivf,
        seconds: args.get("seconds", 10)?,
        ip: args.get("ip", IpAddr::from([127, 0, 0, 1]))?,
    })
}

fn main() {
    rtcpeer_examples::logging::init();
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
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

/// The frames of a VP8 IVF file and its time base.
type Clip = (Vec<IvfFrame>, (u32, u32));

fn read_frames(path: &str) -> Result<Clip, Box<dyn std::error::Error>> {
    let mut reader = IvfReader::new(std::io::BufReader::new(std::fs::File::open(path)?))?;
    if &reader.header().fourcc != b"VP80" {
        return Err(format!("{path} is not VP8 (FourCC {:?})", reader.header().fourcc).into());
    }
    let timebase = reader.header().timebase;
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        frames.push(frame);
    }
    if frames.is_empty() {
        return Err(format!("{path} has no frames").into());
    }
    Ok((frames, timebase))
}

async fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let (frames, timebase) = read_frames(&options.ivf)?;
    let config = RtcConfiguration {
        codecs: MediaCodecs::default().only(&["VP8"]),
        ..RtcConfiguration::default()
    };
    let pc = new_peer_connection(config, &SocketConfig::with_addresses([options.ip]))?;
    let init = TransceiverInit {
        direction: TransceiverDirection::SendOnly,
        stream_ids: vec!["play_file".into()],
    };
    let id = pc.add_transceiver(MediaKind::Video, init).await?;
    let track = pc.track_local(id);
    let offer = pc.create_offer().await?;
    pc.set_local_description(offer).await?;
    let offer = pc.wait_gathering_complete().await?;
    let line = serde_json::json!({ "type": "offer", "sdp": offer.sdp });
    println!("{line}");
    std::io::stdout().flush()?;
    let answer = read_answer()?;
    pc.set_remote_description(answer).await?;
    tokio::time::timeout(Duration::from_secs(10), pc.wait_connected()).await??;
    eprintln!(
        "play_file: connected; streaming {} frames in a loop",
        frames.len()
    );
    let restart = Arc::new(AtomicBool::new(false));
    tokio::spawn(watch_keyframe_requests(track.clone(), restart.clone()));
    let pt = pc.with_core(|core| {
        let t = core.transceiver(id)?;
        let vp8 = t
            .codecs()
            .iter()
            .find(|c| c.codec.name.eq_ignore_ascii_case("VP8"));
        Ok(vp8.map(|c| c.payload_type))
    })?;
    let pt = pt.ok_or("the answer accepted no VP8")?;
    let sent = stream(&track, pt, &frames, timebase, options.seconds, &restart).await?;
    let stats = track.stats().unwrap_or_default();
    let summary = serde_json::json!({
        "framesSent": sent,
        "packetsSent": stats.packets_sent,
        "bytesSent": stats.bytes_sent,
        "keyframeRequests": stats.pli_count + stats.fir_count,
        "nacks": stats.nack_count,
    });
    println!("{summary}");
    pc.close().await;
    Ok(())
}

fn read_answer() -> Result<RtcSessionDescription, Box<dyn std::error::Error>> {
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

async fn watch_keyframe_requests(track: TrackLocal, restart: Arc<AtomicBool>) {
    while let Some(kind) = track.keyframe_request().await {
        eprintln!("play_file: keyframe request ({kind:?}): restarting the file");
        restart.store(true, Ordering::Relaxed);
    }
}

/// Sends frames at their presentation times for `seconds`, looping over the file; returns
/// how many frames went out.
async fn stream(
    track: &TrackLocal,
    pt: u8,
    frames: &[IvfFrame],
    (num, den): (u32, u32),
    seconds: u64,
    restart: &AtomicBool,
) -> Result<u64, Box<dyn std::error::Error>> {
    let frame_interval = Duration::from_secs_f64(f64::from(num) / f64::from(den));
    let ticks_per_frame = (u64::from(VP8_CLOCK) * u64::from(num) / u64::from(den)) as u32;
    let mut packetizer = Vp8Packetizer::new(0);
    let (mut seq, mut ts, mut sent) = (0u16, 0u32, 0u64);
    let started = Instant::now();
    let mut next = started;
    let mut index = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        if restart.swap(false, Ordering::Relaxed) {
            index = 0;
        }
        let payloads = packetizer.packetize(&frames[index].data, MAX_PAYLOAD)?;
        let last = payloads.len().saturating_sub(1);
        for (i, payload) in payloads.iter().enumerate() {
            let write = RtpWrite::new(pt, seq, ts, i == last, payload);
            track.write_rtp(write).await?;
            seq = seq.wrapping_add(1);
        }
        sent += 1;
        ts = ts.wrapping_add(ticks_per_frame);
        index = (index + 1) % frames.len();
        next += frame_interval;
        tokio::time::sleep_until(next.into()).await;
        if sent % 30 == 0 {
            eprintln!("play_file: {sent} frames sent");
        }
    }
    Ok(sent)
}
