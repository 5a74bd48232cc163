//! `record`: saves what a browser publishes (camera and microphone) to files `ffmpeg` plays:
//! VP8, VP9 and AV1 video to IVF, H.264 to an Annex B `.h264` stream, Opus audio to Ogg.
//! It receives whole frames (the frame API: loss recovery and frame assembly in the core),
//! not RTP packets. Signalling is one JSON line each way on stdin/stdout, so any page or
//! script can be the other side:
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin record -- --out /tmp/rec --seconds 10
//! ```
//!
//! It reads the browser's offer (`{"type":"offer","sdp":"..."}`, every candidate included)
//! on stdin and prints the answer in the same form on stdout. Each audio or video m-line the
//! browser sends on becomes one file in `--out DIR`: `video-MID.ivf` / `video-MID.h264`,
//! `audio-MID.ogg`; a simulcast video m-line (the browser's `sendEncodings` with rids) is
//! accepted with every layer and becomes one file per layer, `video-MID-RID.ivf`. A video file starts at a keyframe (one is requested as soon as the first
//! frame arrives); after a frame lost for good (a non-contiguous frame) frames are dropped and
//! a keyframe requested until one arrives, so the file always decodes. Audio gaps (RTP
//! timestamps jumping) are filled with packets the decoder conceals, so the audio keeps its
//! length. Recording ends after `--seconds N` (default 10) from the connection, or earlier
//! when the browser stops sending or closes; then the last stdout line is a JSON summary per
//! track (codec, file, frames and bytes written, keyframes, non-contiguous frames, frames
//! dropped waiting for a keyframe, keyframe requests, RTP packets received and lost, frames
//! dropped behind the reader; samples and duration for audio).
//! Options: `--out DIR` (default `.`), `--seconds N`, `--codec NAME` (accept only this video
//! codec: VP8, VP9, AV1, H264; default: any of them, in the browser's order), `--ip IP` (UDP
//! socket address, default 127.0.0.1).

use rtcpeer_examples::args::{Args, exit_if_help};
use rtcpeer_examples::media::annexb::AnnexBWriter;
use rtcpeer_examples::media::ivf::{IvfHeader, IvfWriter, vp8_keyframe_size};
use rtcpeer_examples::media::ogg::{DEFAULT_PRE_SKIP, OPUS_RATE, OpusHead, OpusWriter};
use rtcpeer_tokio::{
    InboundRtpStats, KeyframeRequestKind, MediaCodecs, MediaKind, PeerConnection, ReceivedFrame,
    RtcConfiguration, RtcSessionDescription, SdpType, SocketConfig, TrackRemote, TransceiverId,
    new_peer_connection,
};
use std::fs::File;
use std::io::{BufRead, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: record [--out DIR] [--seconds N] [--codec VP8|VP9|AV1|H264] [--ip IP]
  reads a browser's offer as a JSON line on stdin, prints the answer on stdout, records each
  received track to DIR (video-MID.ivf or .h264, audio-MID.ogg) for N seconds (default 10) or
  until the browser stops, then prints a JSON summary line";
/// Video codecs with a file format here.
const VIDEO_CODECS: [&str; 4] = ["VP8", "VP9", "AV1", "H264"];
/// RTP clock of every video payload format recorded here.
const VIDEO_CLOCK: u32 = 90_000;
/// Least time between two keyframe requests while waiting for a keyframe.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);
/// Longest audio gap filled with concealment packets; a longer timestamp jump is a new
/// timeline (the sender restarted), not lost audio.
const MAX_AUDIO_GAP: u32 = 5 * OPUS_RATE;

struct Options {
    out: PathBuf,
    seconds: u64,
    codec: Option<String>,
    ip: IpAddr,
}

fn options() -> Result<Options, String> {
    let args = Args::parse(std::env::args().skip(1), &[])?;
    let unknown = args.unknown(&["out", "seconds", "codec", "ip"]);
    if !unknown.is_empty() {
        return Err(format!("unknown option(s): --{}", unknown.join(", --")));
    }
    let codec: String = args.get("codec", String::new())?;
    if !codec.is_empty() && !VIDEO_CODECS.iter().any(|c| c.eq_ignore_ascii_case(&codec)) {
        return Err(format!(
            "--codec {codec}: one of {}",
            VIDEO_CODECS.join(", ")
        ));
    }
    Ok(Options {
        out: PathBuf::from(args.get("out", ".".to_owned())?),
        seconds: args.get("seconds", 10)?,
        codec: (!codec.is_empty()).then_some(codec),
        ip: args.get("ip", IpAddr::from([127, 0, 0, 1]))?,
    })
}

fn main() {
    exit_if_help(USAGE);
    rtcpeer_examples::logging::init();
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("record: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    if let Err(e) = runtime.block_on(run(options)) {
        eprintln!("record: {e}");
        std::process::exit(1);
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(options: Options) -> Result<(), BoxError> {
    std::fs::create_dir_all(&options.out)?;
    let video: Vec<&str> = match &options.codec {
        Some(c) => vec![c.as_str()],
        None => VIDEO_CODECS.to_vec(),
    };
    let config = RtcConfiguration {
        codecs: MediaCodecs::default().only(&[&video[..], &["opus"]].concat()),
        ..RtcConfiguration::default()
    };
    let pc = new_peer_connection(config, &SocketConfig::with_addresses([options.ip]))?;
    pc.set_remote_description(read_offer()?).await?;
    // Frame mode before any packet arrives, so the first frames are assembled too.
    let transceivers = pc.with_core(|core| Ok(core.transceivers()))?;
    for &id in &transceivers {
        pc.track_remote(id).set_receive_frames(true);
    }
    let answer = pc.create_answer().await?;
    pc.set_local_description(answer).await?;
    let answer = pc.wait_gathering_complete().await?;
    println!(
        "{}",
        serde_json::json!({ "type": "answer", "sdp": answer.sdp })
    );
    std::io::stdout().flush()?;
    tokio::time::timeout(Duration::from_secs(10), pc.wait_connected()).await??;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    eprintln!("record: connected; recording for {} s", options.seconds);
    let mut tasks = Vec::new();
    for id in transceivers {
        let recorder = TransceiverRecorder::new(&pc, id, &options.out)?;
        tasks.push(tokio::spawn(recorder.run(deadline)));
    }
    let mut tracks = Vec::new();
    for task in tasks {
        tracks.extend(task.await??);
    }
    let feedback = pc.stats().media;
    let summary = serde_json::json!({
        "seconds": started.elapsed().as_secs_f64(),
        "tracks": tracks,
        "transport_cc": {
            "packets_recorded": feedback.transport_feedback.packets_recorded,
            "feedback_sent": feedback.transport_feedback.feedback_sent,
        },
    });
    println!("{summary}");
    pc.close().await;
    Ok(())
}

fn read_offer() -> Result<RtcSessionDescription, BoxError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let value: serde_json::Value = serde_json::from_str(line.trim())?;
    if value["type"] != "offer" {
        return Err(format!("expected an offer, got {value}").into());
    }
    let sdp = value["sdp"].as_str().ok_or("offer without sdp")?;
    Ok(RtcSessionDescription {
        sdp_type: SdpType::Offer,
        sdp: sdp.to_owned(),
    })
}

/// Where a track's frames go; made at the first frame a file can start with.
enum Sink {
    Ivf(IvfWriter<BufWriter<File>>),
    AnnexB(AnnexBWriter<BufWriter<File>>),
    Opus(OpusWriter<BufWriter<File>>),
}

/// What one track's recording did, for the summary.
#[derive(Debug, Default)]
struct TrackSummary {
    mid: String,
    /// The simulcast layer recorded (one file per layer).
    rid: Option<String>,
    kind: String,
    codec: String,
    path: String,
    frames_written: u64,
    bytes: u64,
    keyframes: u64,
    non_contiguous: u64,
    dropped_waiting_for_keyframe: u64,
    keyframe_requests: u64,
    /// Audio: 48 kHz samples written, gap fill included.
    samples: u64,
    /// Audio: concealment packets written for gaps.
    gap_packets: u64,
    /// RTP packets received and counted lost (`inbound-rtp`, every SSRC of the track).
    packets_received: u64,
    packets_lost: i64,
    /// Frames the recorder was too slow to read (the runtime's queue dropped them).
    frames_dropped_behind: u64,
}

impl TrackSummary {
    fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "mid": self.mid,
            "rid": self.rid,
            "kind": self.kind,
            "codec": self.codec,
            "path": self.path,
            "framesWritten": self.frames_written,
            "bytes": self.bytes,
            "keyframes": self.keyframes,
            "nonContiguous": self.non_contiguous,
            "droppedWaitingForKeyframe": self.dropped_waiting_for_keyframe,
            "keyframeRequests": self.keyframe_requests,
            "packetsReceived": self.packets_received,
            "packetsLost": self.packets_lost,
            "framesDroppedBehind": self.frames_dropped_behind,
        });
        if self.kind == "audio" {
            v["samples"] = self.samples.into();
            v["durationSeconds"] = (self.samples as f64 / f64::from(OPUS_RATE)).into();
            v["gapPackets"] = self.gap_packets.into();
        }
        v
    }
}

/// Most simulcast layers recorded from one transceiver.
const MAX_LAYERS: usize = 4;

/// Records one transceiver's received frames: to one file, or with simulcast to one file
/// per layer (`video-MID-RID.ivf`).
struct TransceiverRecorder {
    track: TrackRemote,
    stem: PathBuf,
    kind: &'static str,
    mid: String,
    layers: Vec<TrackRecorder>,
}

impl TransceiverRecorder {
    fn new(pc: &PeerConnection, id: TransceiverId, out: &Path) -> Result<Self, BoxError> {
        let (kind, mid) = pc.with_core(|core| {
            let t = core.transceiver(id)?;
            Ok((t.kind().clone(), t.mid().unwrap_or_default().to_owned()))
        })?;
        let kind = if kind == MediaKind::Audio {
            "audio"
        } else {
            "video"
        };
        Ok(Self {
            track: pc.track_remote(id),
            stem: out.join(format!("{kind}-{mid}")),
            kind,
            mid,
            layers: Vec::new(),
        })
    }

    /// Writes frames until `deadline` or the end of the track; returns one summary per
    /// file.
    async fn run(mut self, deadline: Instant) -> Result<Vec<serde_json::Value>, BoxError> {
        loop {
            let read = tokio::time::timeout_at(deadline.into(), self.track.read_frame()).await;
            let Ok(Some(frame)) = read else { break };
            let rid = frame.rid.as_deref();
            let i = match self
                .layers
                .iter()
                .position(|l| l.summary.rid.as_deref() == rid)
            {
                Some(i) => i,
                None if self.layers.len() < MAX_LAYERS => {
                    let stem = match rid {
                        Some(rid) => PathBuf::from(format!("{}-{rid}", self.stem.display())),
                        None => self.stem.clone(),
                    };
                    let mut summary = TrackSummary {
                        mid: self.mid.clone(),
                        rid: rid.map(str::to_owned),
                        kind: self.kind.to_owned(),
                        ..TrackSummary::default()
                    };
                    summary.rid = rid.map(str::to_owned);
                    self.layers.push(TrackRecorder::new(stem, summary));
                    self.layers.len() - 1
                }
                None => continue,
            };
            let layer = &mut self.layers[i];
            if self.kind == "audio" {
                layer.audio_frame(&frame)?;
            } else {
                layer.video_frame(&self.track, &frame)?;
            }
        }
        let stats = self.track.stats();
        let dropped = self.track.dropped();
        self.layers
            .into_iter()
            .map(|l| l.finish(&stats, dropped))
            .collect()
    }
}

/// Records one stream's frames (a track, or one simulcast layer of it) to one file.
struct TrackRecorder {
    /// The file's path without its extension (the codec chooses that).
    stem: PathBuf,
    sink: Option<Sink>,
    summary: TrackSummary,
    /// Video: frames are dropped until a keyframe (at the start and after a loss).
    waiting_for_keyframe: bool,
    last_request: Option<Instant>,
    /// RTP timestamp of the last frame written, and its distance from the first (unwrapped).
    last_timestamp: Option<u32>,
    elapsed_ticks: u64,
    /// Audio: the RTP timestamp the next packet should carry.
    next_audio_timestamp: Option<u32>,
}

impl TrackRecorder {
    fn new(stem: PathBuf, summary: TrackSummary) -> Self {
        Self {
            stem,
            sink: None,
            summary,
            waiting_for_keyframe: true,
            last_request: None,
            last_timestamp: None,
            elapsed_ticks: 0,
            next_audio_timestamp: None,
        }
    }

    fn video_frame(&mut self, track: &TrackRemote, frame: &ReceivedFrame) -> Result<(), BoxError> {
        if self.summary.frames_written + self.summary.dropped_waiting_for_keyframe == 0 {
            // At start: ask for a fresh keyframe whatever the first frame is.
            self.request_keyframe(track);
        }
        if !frame.contiguous && self.sink.is_some() {
            self.summary.non_contiguous += 1;
            self.waiting_for_keyframe = true;
        }
        if self.waiting_for_keyframe && !starts_decoding(frame) {
            self.summary.dropped_waiting_for_keyframe += 1;
            self.request_keyframe(track);
            return Ok(());
        }
        self.waiting_for_keyframe = false;
        if self.sink.is_none() {
            self.sink = Some(self.open_video(frame)?);
        }
        let pts = self.advance(frame.timestamp);
        match &mut self.sink {
            Some(Sink::Ivf(w)) => w.write_frame(pts, &frame.data)?,
            Some(Sink::AnnexB(w)) => w.write_frame(&frame.data)?,
            _ => unreachable!("a video track has a video sink"),
        }
        self.summary.frames_written += 1;
        self.summary.keyframes += u64::from(frame.keyframe);
        Ok(())
    }

    /// RTP ticks from the first frame written to `timestamp` (RTP time unwrapped).
    fn advance(&mut self, timestamp: u32) -> u64 {
        if let Some(last) = self.last_timestamp {
            let step = timestamp.wrapping_sub(last) as i32;
            self.elapsed_ticks = self.elapsed_ticks.saturating_add_signed(i64::from(step));
        }
        self.last_timestamp = Some(timestamp);
        self.elapsed_ticks
    }

    fn open_video(&mut self, frame: &ReceivedFrame) -> Result<Sink, BoxError> {
        let codec = frame.codec.to_ascii_uppercase();
        self.summary.codec = frame.codec.clone();
        if codec == "H264" {
            let path = self.stem.with_extension("h264");
            self.summary.path = path.display().to_string();
            return Ok(Sink::AnnexB(AnnexBWriter::new(BufWriter::new(
                File::create(path)?,
            ))));
        }
        let fourcc = match codec.as_str() {
            "VP8" => *b"VP80",
            "VP9" => *b"VP90",
            "AV1" => *b"AV01",
            other => return Err(format!("no file format for {other}").into()),
        };
        let (width, height) = vp8_keyframe_size(&frame.data).unwrap_or((0, 0));
        let header = IvfHeader {
            fourcc,
            width,
            height,
            timebase: (1, VIDEO_CLOCK),
            frame_count: 0,
        };
        let path = self.stem.with_extension("ivf");
        self.summary.path = path.display().to_string();
        let file = BufWriter::new(File::create(path)?);
        Ok(Sink::Ivf(IvfWriter::new(file, &header)?))
    }

    fn audio_frame(&mut self, frame: &ReceivedFrame) -> Result<(), BoxError> {
        self.summary.non_contiguous += u64::from(!frame.contiguous);
        if self.sink.is_none() {
            self.sink = Some(self.open_audio(frame)?);
        }
        let Some(Sink::Opus(w)) = &mut self.sink else {
            unreachable!("an audio track has an Opus sink");
        };
        if let Some(expected) = self.next_audio_timestamp {
            let gap = frame.timestamp.wrapping_sub(expected) as i32;
            if gap > 0 && gap.unsigned_abs() <= MAX_AUDIO_GAP {
                self.summary.gap_packets += u64::from(w.write_gap(gap.unsigned_abs())?);
            }
        }
        let samples = w.write_packet(&frame.data)?;
        self.next_audio_timestamp = Some(frame.timestamp.wrapping_add(samples));
        self.summary.frames_written += 1;
        self.summary.samples = w.samples();
        Ok(())
    }

    fn open_audio(&mut self, frame: &ReceivedFrame) -> Result<Sink, BoxError> {
        if !frame.codec.eq_ignore_ascii_case("opus") {
            return Err(format!("no file format for audio {}", frame.codec).into());
        }
        self.summary.codec = frame.codec.clone();
        // The TOC byte's stereo flag (RFC 6716 §3.1).
        let stereo = frame.data.first().is_some_and(|toc| toc & 0x04 != 0);
        let head = OpusHead {
            channels: if stereo { 2 } else { 1 },
            pre_skip: DEFAULT_PRE_SKIP,
            input_sample_rate: OPUS_RATE,
            output_gain: 0,
        };
        let path = self.stem.with_extension("ogg");
        self.summary.path = path.display().to_string();
        let file = BufWriter::new(File::create(path)?);
        Ok(Sink::Opus(OpusWriter::new(
            file,
            frame.ssrc,
            &head,
            "rtcpeer record",
        )?))
    }

    /// A PLI (for this layer, with simulcast), at most every [`KEYFRAME_REQUEST_INTERVAL`].
    fn request_keyframe(&mut self, track: &TrackRemote) {
        let now = Instant::now();
        if self
            .last_request
            .is_some_and(|at| now - at < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        self.last_request = Some(now);
        let sent = match &self.summary.rid {
            Some(rid) => track.request_layer_keyframe(rid, KeyframeRequestKind::Pli),
            None => track.request_keyframe(KeyframeRequestKind::Pli),
        };
        match sent {
            Ok(()) => self.summary.keyframe_requests += 1,
            Err(e) => tracing::debug!(%e, "record: keyframe request not sent"),
        }
    }

    /// Closes the file (the Ogg end-of-stream page, the IVF frame count).
    fn finish(
        mut self,
        stats: &[InboundRtpStats],
        dropped: u64,
    ) -> Result<serde_json::Value, BoxError> {
        for stream in stats.iter().filter(|s| s.rid == self.summary.rid) {
            self.summary.packets_received += stream.packets_received;
            self.summary.packets_lost += stream.packets_lost;
        }
        self.summary.frames_dropped_behind = dropped;
        match self.sink.take() {
            Some(Sink::Ivf(w)) => {
                self.summary.bytes = w.bytes();
                w.finish()?;
            }
            Some(Sink::AnnexB(w)) => {
                self.summary.bytes = w.bytes();
                w.finish()?;
            }
            Some(Sink::Opus(w)) => {
                w.finish()?.flush()?;
                self.summary.bytes = std::fs::metadata(&self.summary.path)?.len();
            }
            None => {}
        }
        Ok(self.summary.to_json())
    }
}

/// Whether a video file can start with `frame`: a keyframe, and for H.264 one that carries
/// its parameter sets.
fn starts_decoding(frame: &ReceivedFrame) -> bool {
    if frame.codec.eq_ignore_ascii_case("H264") {
        return rtcpeer_examples::media::annexb::h264_starts_decoding(&frame.data);
    }
    frame.keyframe
}
