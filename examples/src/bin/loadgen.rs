//! `loadgen`: many rtcpeer client peers against an `echo` server, to measure it at scale.
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin echo -- --listen 127.0.0.1:8080 \
//!     --shared-certificate --max-sessions 20000 --max-sessions-per-client 20000 \
//!     --max-connections-per-client 512
//! cargo run --release -p rtcpeer-examples --bin loadgen -- --url http://127.0.0.1:8080 \
//!     --sessions 1000 --rate 500 --size 1024 --interval 1 --duration 10
//! ```
//!
//! The clients share one certificate (no key generation per client). Each has a UDP
//! socket of its own, as real clients have addresses of their own: the server tells its
//! sessions apart by the client's address once ICE has chosen it (DTLS and SCTP carry no
//! ICE username), so N clients need N sockets (raise `ulimit -n` above N). Each client signals as the demo page does (`POST /offer` with a complete
//! SDP offer, the answer comes back), opens one data channel, and waits for it to open.
//! Once every client is set up (or failed), all of them echo a message of `--size` bytes
//! every `--interval` for `--duration`: each message carries a sequence number, each echo
//! is checked and timed. While it runs, a line of progress per second; at the end, setup
//! and echo round-trip percentiles, failures and losses, and the server's own figures from
//! its `GET /stats` (resident memory and CPU time: memory per idle session is measured
//! once every client is connected and before echoing starts; CPU per new session over the
//! setup phase). The last line is the same report as JSON. Exit status 1 on any failure,
//! loss or corrupted echo.
//!
//! `--abandon` measures the opposite: `--sessions` offers are posted and answered, then the
//! clients never send anything; the server must close each at its unchecked timeout and
//! return the memory. Run `--rounds 2` to see the resident memory after a warm-up round
//! against after the next.

use bytes::Bytes;
use rtcpeer::peer_connection::RtcSessionDescription;
use rtcpeer_examples::args::{Args, exit_if_help};
use rtcpeer_examples::bench::report::percentile;
use rtcpeer_examples::bench::system::UdpErrors;
use rtcpeer_tokio::{
    DataChannel, DtlsCertificate, Message, PeerConnection, RtcConfiguration, SocketConfig,
    generate_certificate, new_peer_connection,
};
use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};

const USAGE: &str = "\
usage: loadgen [options]
  --url http://IP:PORT     the echo server (default http://127.0.0.1:8080)
  --sessions N             client peers (default 100)
  --rate N                 new sessions started per second (default 500)
  --concurrency N          signalling requests in flight at once (default 32; echo allows
                           32 HTTP connections per client IP unless --max-connections-per-client)
  --size BYTES             echo message size, at least 8 (default 1024)
  --interval SECS          between two messages of one session (default 1)
  --duration SECS          how long every session echoes, once all are set up (default 10)
  --grace SECS             after the last send, an echo not received while no other echo
                           arrived for this long is lost (default 5)
  --setup-timeout SECS     offer to open data channel, per session (default 30)
  --abandon                post offers and never connect: the server must time them out
  --rounds N               with --abandon: rounds of --sessions offers (default 1)
  --drain-timeout SECS     with --abandon: wait this long for the server to free them (default 60)
  --warmup N               with --abandon: first a round of N sessions; the server's RSS once
                           they are freed is the baseline (default 0: the RSS at start)
  --max-rss-growth PCT     with --abandon: fail if the RSS after a round exceeds the baseline
                           by more than PCT percent (default: report only)
  --help                   print this and exit
Exit status 1 on any setup failure, lost or corrupted echo (or, with --abandon, sessions
not freed in time).";

const OPTIONS: &[&str] = &[
    "url",
    "sessions",
    "rate",
    "concurrency",
    "size",
    "interval",
    "duration",
    "grace",
    "setup-timeout",
    "abandon",
    "rounds",
    "drain-timeout",
    "warmup",
    "max-rss-growth",
];

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone)]
struct Options {
    server: SocketAddr,
    sessions: usize,
    rate: f64,
    concurrency: usize,
    size: usize,
    interval: Duration,
    duration: Duration,
    grace: Duration,
    setup_timeout: Duration,
    abandon: bool,
    rounds: usize,
    drain_timeout: Duration,
    warmup: usize,
    max_rss_growth: Option<f64>,
}

fn seconds(args: &Args, name: &str, default: f64) -> Result<Duration, String> {
    let secs: f64 = args.get(name, default)?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("--{name} {secs}: {e}"))
}

fn options() -> Result<Options, String> {
    let args = Args::parse(std::env::args().skip(1), &["abandon"])?;
    let unknown = args.unknown(OPTIONS);
    if !unknown.is_empty() {
        return Err(format!("unknown option(s): --{}", unknown.join(", --")));
    }
    let url: String = args.get("url", "http://127.0.0.1:8080".to_owned())?;
    let host = url.strip_prefix("http://").unwrap_or(&url);
    let host = host.trim_end_matches('/');
    let server: SocketAddr = host
        .parse()
        .map_err(|e| format!("--url {url:?}: expected http://IP:PORT ({e})"))?;
    let options = Options {
        server,
        sessions: args.get("sessions", 100)?,
        rate: args.get("rate", 500.0)?,
        concurrency: args.get("concurrency", 32)?,
        size: args.get("size", 1024)?,
        interval: seconds(&args, "interval", 1.0)?,
        duration: seconds(&args, "duration", 10.0)?,
        grace: seconds(&args, "grace", 5.0)?,
        setup_timeout: seconds(&args, "setup-timeout", 30.0)?,
        abandon: args.flag("abandon"),
        rounds: args.get("rounds", 1)?,
        drain_timeout: seconds(&args, "drain-timeout", 60.0)?,
        warmup: args.get("warmup", 0)?,
        max_rss_growth: args.get_opt("max-rss-growth")?,
    };
    if options.size < 8 {
        return Err("--size must be at least 8 (the sequence number)".into());
    }
    if options.rate <= 0.0 || options.concurrency == 0 {
        return Err("--rate and --concurrency must be positive".into());
    }
    if options.interval.is_zero() {
        return Err("--interval must be positive".into());
    }
    Ok(options)
}

fn main() {
    exit_if_help(USAGE);
    rtcpeer_examples::logging::init_with_default("warn");
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loadgen: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    let ok = runtime.block_on(async {
        if options.abandon {
            abandon(&options).await
        } else {
            run(&options).await
        }
    });
    match ok {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP: one request per connection (`Connection: close`), enough for signalling.

struct Response {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn http(
    server: SocketAddr,
    method: &str,
    path: &str,
    sdp: Option<&str>,
) -> Result<Response, Error> {
    let mut stream = tokio::net::TcpStream::connect(server).await?;
    let body = sdp.unwrap_or("");
    let content_type = if sdp.is_some() {
        "Content-Type: application/sdp\r\n"
    } else {
        ""
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n{content_type}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("HTTP response without a head")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("HTTP response without a status")?;
    let location = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    Ok(Response {
        status,
        location,
        body: body.to_owned(),
    })
}

/// The server's `GET /stats`.
#[derive(Debug, Clone, Copy, Default)]
struct ServerStats {
    sessions: u64,
    rss: u64,
    cpu: f64,
}

async fn server_stats(server: SocketAddr) -> Result<ServerStats, Error> {
    let response = http(server, "GET", "/stats", None).await?;
    if response.status != 200 {
        return Err(format!("GET /stats: {} {}", response.status, response.body).into());
    }
    let value: serde_json::Value = serde_json::from_str(&response.body)?;
    Ok(ServerStats {
        sessions: value["sessions"].as_u64().unwrap_or(0),
        rss: value["rssBytes"].as_u64().unwrap_or(0),
        cpu: value["cpuSeconds"].as_f64().unwrap_or(0.0),
    })
}

/// Posts `offer`; the answer's SDP.
async fn post_offer(server: SocketAddr, offer: &str) -> Result<String, Error> {
    let response = http(server, "POST", "/offer", Some(offer)).await?;
    if response.status != 201 || response.location.is_none() {
        return Err(format!("POST /offer: {} {}", response.status, response.body.trim()).into());
    }
    Ok(response.body)
}

// ---------------------------------------------------------------------------------------
// The run.

#[derive(Debug, Default)]
struct Counters {
    started: AtomicU64,
    connected: AtomicU64,
    failed: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    corrupt: AtomicU64,
    lost: AtomicU64,
}

impl Counters {
    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What every client shares.
struct Shared {
    options: Options,
    sockets: SocketConfig,
    certificate: DtlsCertificate,
    signalling: Semaphore,
    counters: Counters,
    setup_ms: Mutex<Vec<f64>>,
    rtt_ms: Mutex<Vec<f64>>,
    failures: Mutex<Vec<String>>,
    /// Becomes true when every client is set up (or failed): echoing starts.
    go: watch::Receiver<bool>,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn progress(t0: Instant, c: &Counters, server: Option<ServerStats>) {
    let s = server.map_or_else(
        || "server ?".to_owned(),
        |s| {
            format!(
                "server sessions {} rss {:.1} MiB cpu {:.2} s",
                s.sessions,
                mib(s.rss),
                s.cpu
            )
        },
    );
    println!(
        "[{:6.1}s] started {} connected {} failed {} | echoes sent {} received {} | {s}",
        t0.elapsed().as_secs_f64(),
        Counters::get(&c.started),
        Counters::get(&c.connected),
        Counters::get(&c.failed),
        Counters::get(&c.sent),
        Counters::get(&c.received),
    );
    let _ = std::io::stdout().flush();
}

/// Client sockets on the server's IP (loopback in the tests).
fn client_sockets(options: &Options) -> SocketConfig {
    SocketConfig::with_addresses([options.server.ip()])
}

fn percentiles(values: &mut [f64]) -> serde_json::Value {
    values.sort_by(f64::total_cmp);
    let at = |p| percentile(values, p);
    serde_json::json!({
        "count": values.len(),
        "p50": at(50.0),
        "p90": at(90.0),
        "p99": at(99.0),
        "max": values.last(),
    })
}

fn show(name: &str, v: &serde_json::Value) -> String {
    let f = |k: &str| v[k].as_f64().map_or("-".to_owned(), |x| format!("{x:.1}"));
    format!(
        "{name}: p50 {} ms, p90 {} ms, p99 {} ms, max {} ms ({} samples)",
        f("p50"),
        f("p90"),
        f("p99"),
        f("max"),
        v["count"]
    )
}

async fn run(options: &Options) -> Result<bool, Error> {
    let server = options.server;
    let base = server_stats(server).await?;
    let (go_tx, go) = watch::channel(false);
    let shared = Arc::new(Shared {
        options: options.clone(),
        sockets: client_sockets(options),
        certificate: generate_certificate()?,
        signalling: Semaphore::new(options.concurrency),
        counters: Counters::default(),
        setup_ms: Mutex::new(Vec::new()),
        rtt_ms: Mutex::new(Vec::new()),
        failures: Mutex::new(Vec::new()),
        go,
    });
    println!(
        "loadgen: {} sessions against {server} at {}/s; {} B every {:?} for {:?}; server \
         at start: {} sessions, rss {:.1} MiB",
        options.sessions,
        options.rate,
        options.size,
        options.interval,
        options.duration,
        base.sessions,
        mib(base.rss)
    );
    let t0 = Instant::now();
    let client_cpu0 = own_cpu();
    let udp0 = UdpErrors::read();
    let ticker_shared = shared.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let stats = server_stats(server).await.ok();
            progress(t0, &ticker_shared.counters, stats);
        }
    });
    let mut clients = Vec::with_capacity(options.sessions);
    for i in 0..options.sessions {
        let at = t0 + Duration::from_secs_f64(i as f64 / options.rate);
        tokio::time::sleep_until(at.into()).await;
        clients.push(tokio::spawn(client(i, shared.clone())));
    }
    // Every client is set up (or failed) when connected + failed reach the count.
    let all = options.sessions as u64;
    let c = &shared.counters;
    while Counters::get(&c.connected) + Counters::get(&c.failed) < all {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let setup_wall = t0.elapsed();
    let set_up = server_stats(server).await?;
    let client_cpu_set_up = own_cpu();
    let connected = Counters::get(&c.connected);
    println!(
        "loadgen: set up {connected} of {all} in {:.2} s; echoing for {:?}",
        setup_wall.as_secs_f64(),
        options.duration
    );
    let echo_start = Instant::now();
    let _ = go_tx.send(true);
    for client in clients {
        if let Err(e) = client.await {
            lock(&shared.failures).push(format!("client task: {e}"));
            Counters::add(&c.failed, 1);
        }
    }
    let echo_wall = echo_start.elapsed();
    let udp_drops = UdpErrors::read()
        .zip(udp0)
        .map(|(now, then)| now.since(then).rcvbuf_errors);
    let client_cpu_echo = own_cpu() - client_cpu_set_up;
    let after_echo = server_stats(server).await?;
    ticker.abort();
    // The clients closed their connections; give the server a moment to free them.
    let mut end = server_stats(server).await?;
    let close_deadline = Instant::now() + Duration::from_secs(10);
    while end.sessions > base.sessions && Instant::now() < close_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        end = server_stats(server).await?;
    }

    let per = |x: f64| {
        if connected == 0 {
            0.0
        } else {
            x / connected as f64
        }
    };
    let rss_per_session = per(set_up.rss.saturating_sub(base.rss) as f64);
    let cpu_per_session_ms = per((set_up.cpu - base.cpu) * 1000.0);
    let echo_cpu_share = (after_echo.cpu - set_up.cpu) / echo_wall.as_secs_f64();
    let client_setup_ms = per((client_cpu_set_up - client_cpu0) * 1000.0);
    let client_echo_share = client_cpu_echo / echo_wall.as_secs_f64();
    let setup = percentiles(&mut lock(&shared.setup_ms));
    let rtt = percentiles(&mut lock(&shared.rtt_ms));
    let failures = lock(&shared.failures).clone();
    let (failed, lost, corrupt) = (
        Counters::get(&c.failed),
        Counters::get(&c.lost),
        Counters::get(&c.corrupt),
    );
    println!("loadgen: {}", show("setup (offer to open channel)", &setup));
    println!("loadgen: {}", show("echo round trip", &rtt));
    println!(
        "loadgen: connected {connected}/{all}, failed {failed}, echoes sent {} received {} \
         lost {lost} corrupt {corrupt}",
        Counters::get(&c.sent),
        Counters::get(&c.received)
    );
    for failure in failures.iter().take(10) {
        println!("loadgen: failure: {failure}");
    }
    println!(
        "loadgen: server: rss {:.1} MiB at start, {:.1} MiB with {} sessions set up \
         ({:.1} KiB per idle session), {:.1} MiB at the end with {} sessions; CPU {:.3} ms \
         per new session ({:.2} s over {:.2} s of setup), {:.0} % of a core while echoing",
        mib(base.rss),
        mib(set_up.rss),
        set_up.sessions,
        rss_per_session / 1024.0,
        mib(end.rss),
        end.sessions,
        cpu_per_session_ms,
        set_up.cpu - base.cpu,
        setup_wall.as_secs_f64(),
        echo_cpu_share * 100.0
    );
    println!(
        "loadgen: kernel UDP receive-buffer drops during the run (this network namespace, \
         every process): {}",
        udp_drops.map_or("?".to_owned(), |n| n.to_string())
    );
    println!(
        "loadgen: this client process: CPU {client_setup_ms:.3} ms per new session, {:.0} % \
         of a core while echoing (echo phase {:.1} s)",
        client_echo_share * 100.0,
        echo_wall.as_secs_f64()
    );
    let report = serde_json::json!({
        "sessions": all,
        "echoSeconds": echo_wall.as_secs_f64(),
        "udpRcvbufErrors": udp_drops,
        "client": {
            "cpuPerNewSessionMs": client_setup_ms,
            "cpuEchoCoreShare": client_echo_share,
        },
        "connected": connected,
        "failed": failed,
        "sent": Counters::get(&c.sent),
        "received": Counters::get(&c.received),
        "lost": lost,
        "corrupt": corrupt,
        "setupSeconds": setup_wall.as_secs_f64(),
        "setupMs": setup,
        "rttMs": rtt,
        "server": {
            "rssStart": base.rss,
            "rssSetUp": set_up.rss,
            "rssEnd": end.rss,
            "sessionsSetUp": set_up.sessions,
            "sessionsEnd": end.sessions,
            "rssPerIdleSession": rss_per_session,
            "cpuPerNewSessionMs": cpu_per_session_ms,
            "cpuSetupSeconds": set_up.cpu - base.cpu,
            "cpuEchoCoreShare": echo_cpu_share,
        },
    });
    println!("{report}");
    Ok(failed == 0 && lost == 0 && corrupt == 0 && connected == all)
}

/// This process's CPU time so far, seconds.
fn own_cpu() -> f64 {
    rtcpeer_examples::bench::system::cpu_time().map_or(0.0, |t| t.as_secs_f64())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One client: set up, wait for the go, echo, close.
async fn client(i: usize, shared: Arc<Shared>) {
    let c = &shared.counters;
    Counters::add(&c.started, 1);
    let start = Instant::now();
    let set_up = tokio::time::timeout(shared.options.setup_timeout, set_up(&shared));
    let (pc, channel) = match set_up.await {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return fail(&shared, format!("session {i}: {e}")),
        Err(_) => return fail(&shared, format!("session {i}: not open within the timeout")),
    };
    lock(&shared.setup_ms).push(start.elapsed().as_secs_f64() * 1000.0);
    Counters::add(&c.connected, 1);
    let mut go = shared.go.clone();
    if go.wait_for(|go| *go).await.is_ok() {
        let rtts = echo(&channel, &shared, i).await;
        lock(&shared.rtt_ms).extend(rtts);
    }
    pc.close().await;
}

fn fail(shared: &Shared, why: String) {
    Counters::add(&shared.counters.failed, 1);
    lock(&shared.failures).push(why);
}

async fn set_up(shared: &Shared) -> Result<(PeerConnection, DataChannel), Error> {
    let config = RtcConfiguration {
        certificate: Some(shared.certificate.clone()),
        ..RtcConfiguration::default()
    };
    let pc = new_peer_connection(config, &shared.sockets)?;
    let channel = pc
        .create_data_channel("loadgen", Default::default())
        .await?;
    let offer = pc.create_offer().await?;
    pc.set_local_description(offer).await?;
    let offer = pc.wait_gathering_complete().await?;
    let answer = {
        let _permit = shared.signalling.acquire().await?;
        post_offer(shared.options.server, &offer.sdp).await?
    };
    pc.set_remote_description(RtcSessionDescription::answer(answer))
        .await?;
    channel.wait_open().await?;
    Ok((pc, channel))
}

/// A message of `size` bytes: the sequence number, then bytes that follow from it.
fn message(seq: u64, size: usize) -> Bytes {
    let mut data = vec![0u8; size];
    data[..8].copy_from_slice(&seq.to_le_bytes());
    for (k, b) in data[8..].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_add(k as u8);
    }
    Bytes::from(data)
}

/// Echoes for the configured duration; the round trips in ms. Counts sent, received,
/// lost and corrupted messages.
async fn echo(channel: &DataChannel, shared: &Shared, index: usize) -> Vec<f64> {
    let options = &shared.options;
    let c = &shared.counters;
    let count = (options.duration.as_secs_f64() / options.interval.as_secs_f64()).ceil() as u64;
    let mut rtts = Vec::with_capacity(count as usize);
    let mut pending: VecDeque<(u64, Instant)> = VecDeque::new();
    // Spread the clients' sends over the interval.
    let phase = options
        .interval
        .mul_f64((index as f64 * 0.618_033_988_7).fract());
    let mut ticker = tokio::time::interval_at((Instant::now() + phase).into(), options.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next = 0u64;
    let mut deadline: Option<Instant> = None;
    loop {
        if next == count && pending.is_empty() {
            break;
        }
        let grace = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ticker.tick(), if next < count => {
                if channel.send(Message::Binary(message(next, options.size))).is_err() {
                    break;
                }
                pending.push_back((next, Instant::now()));
                Counters::add(&c.sent, 1);
                next += 1;
                if next == count {
                    deadline = Some(Instant::now() + options.grace);
                }
            }
            received = channel.recv() => {
                let Some(received) = received else { break };
                let expected = pending.pop_front();
                let ok = match (&received, expected) {
                    (Message::Binary(data), Some((seq, sent))) if *data == message(seq, options.size) => {
                        rtts.push(sent.elapsed().as_secs_f64() * 1000.0);
                        true
                    }
                    _ => false,
                };
                if ok {
                    Counters::add(&c.received, 1);
                    // A backlog that still moves is late, not lost: the grace runs from
                    // the last echo.
                    if next == count {
                        deadline = Some(Instant::now() + options.grace);
                    }
                } else {
                    Counters::add(&c.corrupt, 1);
                }
            }
            () = grace => break,
        }
    }
    Counters::add(&c.lost, pending.len() as u64 + (count - next));
    rtts
}

// ---------------------------------------------------------------------------------------
// Abandoned sessions.

async fn abandon(options: &Options) -> Result<bool, Error> {
    let server = options.server;
    // One offer serves every abandoned session: the server answers each with a new
    // session, and the client never sends a check.
    let pc = new_peer_connection(RtcConfiguration::default(), &client_sockets(options))?;
    pc.create_data_channel("loadgen", Default::default())
        .await?;
    let offer = pc.create_offer().await?;
    pc.set_local_description(offer).await?;
    let offer: Arc<str> = pc.wait_gathering_complete().await?.sdp.into();
    let start = server_stats(server).await?;
    println!(
        "loadgen: abandon {} sessions x {} rounds against {server}; server at start: {} \
         sessions, rss {:.1} MiB",
        options.sessions,
        options.rounds,
        start.sessions,
        mib(start.rss)
    );
    let run = AbandonRun {
        options,
        offer,
        base_sessions: start.sessions,
        signalling: Arc::new(Semaphore::new(options.concurrency)),
        t0: Instant::now(),
    };
    let mut ok = true;
    // The baseline: the server idle at start, or idle again after a warm-up round (its
    // code paths faulted in, its runtime's pools made).
    let mut baseline = start.rss;
    if options.warmup > 0 {
        let warm = run.round(0, options.warmup).await?;
        ok &= warm.ok;
        baseline = warm.after.rss;
        println!(
            "loadgen: baseline after {} warm-up sessions: rss {:.1} MiB",
            options.warmup,
            mib(baseline)
        );
    }
    let mut rounds = Vec::new();
    for round in 1..=options.rounds {
        let r = run.round(round, options.sessions).await?;
        let growth = r.after.rss as f64 / baseline.max(1) as f64 - 1.0;
        let within = options
            .max_rss_growth
            .is_none_or(|most| growth * 100.0 <= most);
        ok &= r.ok && within;
        println!(
            "loadgen: round {round}: rss after is {:+.1} % of the baseline{}",
            growth * 100.0,
            match options.max_rss_growth {
                Some(most) if !within => format!(" (more than the {most} % allowed)"),
                _ => String::new(),
            }
        );
        rounds.push(r.to_json(growth));
    }
    pc.close().await;
    let report = serde_json::json!({
        "abandoned": options.sessions,
        "rssStart": start.rss,
        "warmup": options.warmup,
        "rssBaseline": baseline,
        "rounds": rounds,
    });
    println!("{report}");
    Ok(ok)
}

/// What every abandon round shares.
struct AbandonRun<'a> {
    options: &'a Options,
    offer: Arc<str>,
    /// Sessions the server had before the first round: a round is freed when back there.
    base_sessions: u64,
    signalling: Arc<Semaphore>,
    t0: Instant,
}

/// One round's outcome.
struct AbandonRound {
    answered: u64,
    failed: usize,
    peak: ServerStats,
    after: ServerStats,
    posted: Duration,
    drained: Duration,
    ok: bool,
}

impl AbandonRound {
    fn to_json(&self, rss_growth: f64) -> serde_json::Value {
        serde_json::json!({
            "answered": self.answered,
            "failed": self.failed,
            "peakSessions": self.peak.sessions,
            "peakRss": self.peak.rss,
            "drainedSeconds": self.drained.as_secs_f64(),
            "drainedAfterPostsSeconds": (self.drained - self.posted).as_secs_f64(),
            "sessionsAfter": self.after.sessions,
            "rssAfter": self.after.rss,
            "rssGrowthOverBaseline": rss_growth,
        })
    }
}

impl AbandonRun<'_> {
    /// Posts `sessions` offers at the configured rate, then waits for the server to free
    /// them all (or the drain timeout) and reads its memory.
    async fn round(&self, round: usize, sessions: usize) -> Result<AbandonRound, Error> {
        let (server, options) = (self.options.server, self.options);
        let start = Instant::now();
        let mut posts = Vec::with_capacity(sessions);
        for i in 0..sessions {
            let at = start + Duration::from_secs_f64(i as f64 / options.rate);
            tokio::time::sleep_until(at.into()).await;
            let (offer, signalling) = (self.offer.clone(), self.signalling.clone());
            posts.push(tokio::spawn(async move {
                let _permit = signalling.acquire().await?;
                post_offer(server, &offer).await.map(drop)
            }));
        }
        let mut answered = 0u64;
        let mut failures = Vec::new();
        for post in posts {
            match post.await {
                Ok(Ok(())) => answered += 1,
                Ok(Err(e)) => failures.push(e.to_string()),
                Err(e) => failures.push(e.to_string()),
            }
        }
        let peak = server_stats(server).await?;
        let posted = start.elapsed();
        let deadline = Instant::now() + options.drain_timeout;
        let mut now = peak;
        let mut last_print = Instant::now();
        while now.sessions > self.base_sessions && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            now = server_stats(server).await?;
            if last_print.elapsed() >= Duration::from_secs(1) {
                progress_abandon(self.t0, round, now);
                last_print = Instant::now();
            }
        }
        let drained = start.elapsed();
        // Let the server's timers and its once-a-second heap return run, then read memory.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let after = server_stats(server).await?;
        let freed = after.sessions <= self.base_sessions;
        println!(
            "loadgen: round {round}: answered {answered}/{sessions} in {:.2} s ({} failed), \
             server peak {} sessions rss {:.1} MiB; {} after {:.2} s: {} sessions, rss {:.1} MiB",
            posted.as_secs_f64(),
            failures.len(),
            peak.sessions,
            mib(peak.rss),
            if freed { "freed" } else { "NOT freed" },
            drained.as_secs_f64(),
            after.sessions,
            mib(after.rss)
        );
        for failure in failures.iter().take(5) {
            println!("loadgen: failure: {failure}");
        }
        Ok(AbandonRound {
            answered,
            failed: failures.len(),
            peak,
            after,
            posted,
            drained,
            ok: freed && failures.is_empty(),
        })
    }
}

fn progress_abandon(t0: Instant, round: usize, s: ServerStats) {
    println!(
        "[{:6.1}s] round {round}: server sessions {} rss {:.1} MiB cpu {:.2} s",
        t0.elapsed().as_secs_f64(),
        s.sessions,
        mib(s.rss),
        s.cpu
    );
    let _ = std::io::stdout().flush();
}
