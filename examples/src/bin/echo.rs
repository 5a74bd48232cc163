//! `echo`: an HTTP server whose page opens a WebRTC data channel to it; every message comes
//! back on the same channel, text as text and binary as binary.
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin echo -- --listen 127.0.0.1:8080
//! ```
//!
//! Prints `listening on http://IP:PORT/` once ready; `--help` lists the options (limits,
//! timeouts, ICE mode). Signalling is WHIP-style: see `rtcpeer_examples::echo::http`.

use rtcpeer::dtls::{CertificateValidity, DtlsCertificate};
use rtcpeer_examples::args::{Args, exit_if_help};
use rtcpeer_examples::echo::backend::os_seed;
use rtcpeer_examples::echo::media::{self, MediaPolicy};
use rtcpeer_examples::echo::session::{
    parse_ice_server, set_ice_servers, set_shared_certificate, set_turn_tls_roots,
};
use rtcpeer_examples::echo::{
    EchoConfig, HttpLimits, SessionBackend, async_backend::AsyncEchoBackend, http,
    mio_backend::MioEchoBackend,
};
use rtcpeer_examples::heap::{HeapReturner, release_free_heap};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "\
usage: echo [options]
  --listen IP:PORT              HTTP address; its IP also carries the UDP socket
                                (default 127.0.0.1:8080; port 0 picks one)
  --udp-port N                  the one UDP port every session is served on
                                (default 0: the OS picks one)
  --shards N                    endpoint driver tasks (tokio, smol) or loop threads
                                (mio), each with a socket of its own on that port
                                (default 0: one per core)
  --runtime tokio|smol|mio      adapter that drives the peer connections (default tokio)
  --max-sessions N              sessions alive at once (default 256)
  --max-sessions-per-client N   sessions alive at once per client IP (default 16)
  --unchecked-timeout SECS      close a session that sees no ICE check by then (default 5)
  --connect-timeout SECS        close a session not connected by then (default 30)
  --ice-lite on|off             answer checks only, send none (default on)
  --header-timeout SECS         HTTP request head deadline and keep-alive idle limit (default 5)
  --body-timeout SECS           HTTP request body deadline (default 5)
  --max-connections N           HTTP connections open at once (default 512)
  --max-connections-per-client N  HTTP connections per client IP (default 32)
  --media echo|decline          send each audio/video track back (default), or reject them
  --ice-server URL              STUN/TURN server, repeatable: stun:host:port, turn:host:port,
                                turn:user:pass@host:port, turn:host:port?transport=tcp,
                                turns:host:port (TLS)
  --turn-user U --turn-pass P   credentials for TURN URLs without inline ones
  --turn-tls-root FILE          PEM root certificate(s) trusted for turns: servers besides
                                Mozilla's, repeatable (a private CA)
  --relay-only                  only relayed candidates, through the TURN servers
  --shared-certificate          every session presents one certificate made at start
                                (cheaper sessions; one a=fingerprint for all)
  --help                        print this and exit
On glibc, echo restarts itself with GLIBC_TUNABLES=glibc.malloc.tcache_count=0:
glibc.malloc.mxfast=0:glibc.malloc.trim_threshold=131072 so that memory freed by ended
sessions goes back to the OS; a GLIBC_TUNABLES that sets tcache_count is kept as it is.";

const OPTIONS: &[&str] = &[
    "listen",
    "runtime",
    "udp-port",
    "shards",
    "max-sessions",
    "max-sessions-per-client",
    "unchecked-timeout",
    "connect-timeout",
    "ice-lite",
    "header-timeout",
    "body-timeout",
    "max-connections",
    "max-connections-per-client",
    "media",
    "ice-server",
    "turn-user",
    "turn-pass",
    "turn-tls-root",
    "relay-only",
    "shared-certificate",
];

struct Options {
    listen: SocketAddr,
    runtime: String,
    echo: EchoConfig,
    http: HttpLimits,
}

fn seconds(args: &Args, name: &str, default: Duration) -> Result<Duration, String> {
    let secs: f64 = args.get(name, default.as_secs_f64())?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("--{name} {secs}: {e}"))
}

fn on_off(args: &Args, name: &str, default: bool) -> Result<bool, String> {
    let default = if default { "on" } else { "off" };
    match args.get(name, default.to_owned())?.as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(format!("--{name} {other:?}: expected on or off")),
    }
}

fn options() -> Result<Options, String> {
    let args = Args::parse(
        std::env::args().skip(1),
        &["relay-only", "shared-certificate"],
    )?;
    let unknown = args.unknown(OPTIONS);
    if !unknown.is_empty() {
        return Err(format!("unknown option(s): --{}", unknown.join(", --")));
    }
    let mut echo = EchoConfig::default();
    echo.limits.total = args.get("max-sessions", echo.limits.total)?;
    echo.limits.per_client = args.get("max-sessions-per-client", echo.limits.per_client)?;
    echo.unchecked_timeout = seconds(&args, "unchecked-timeout", echo.unchecked_timeout)?;
    echo.connect_timeout = seconds(&args, "connect-timeout", echo.connect_timeout)?;
    echo.ice_lite = on_off(&args, "ice-lite", echo.ice_lite)?;
    echo.udp_port = args.get("udp-port", echo.udp_port)?;
    echo.shards = args.get("shards", echo.shards)?;
    let mut http = HttpLimits::default();
    http.header_timeout = seconds(&args, "header-timeout", http.header_timeout)?;
    http.body_timeout = seconds(&args, "body-timeout", http.body_timeout)?;
    http.max_connections = args.get("max-connections", http.max_connections)?;
    http.max_connections_per_client = args.get(
        "max-connections-per-client",
        http.max_connections_per_client,
    )?;
    let user = args.get::<String>("turn-user", String::new())?;
    let pass = args.get::<String>("turn-pass", String::new())?;
    let servers = args
        .all("ice-server")
        .into_iter()
        .map(|url| {
            let (u, p) = (!user.is_empty(), !pass.is_empty());
            parse_ice_server(url, u.then_some(&*user), p.then_some(&*pass))
        })
        .collect::<Result<Vec<_>, _>>()?;
    set_ice_servers(servers, args.flag("relay-only"));
    let roots = args
        .all("turn-tls-root")
        .into_iter()
        .map(|path| {
            std::fs::read_to_string(path).map_err(|e| format!("--turn-tls-root {path}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    set_turn_tls_roots(roots);
    media::set_policy(args.get("media", MediaPolicy::Echo)?);
    if args.flag("shared-certificate") {
        set_shared_certificate(shared_certificate()?);
    }
    Ok(Options {
        listen: args.get("listen", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
        runtime: args.get("runtime", "tokio".to_owned())?,
        echo,
        http,
    })
}

/// A certificate for every session, keyed from the OS random source, valid from a day ago
/// to 30 days from now.
fn shared_certificate() -> Result<DtlsCertificate, String> {
    let seed = os_seed().map_err(|e| e.to_string())?;
    let validity = CertificateValidity::around(std::time::SystemTime::now());
    DtlsCertificate::generate(&mut seed.rng(), validity).map_err(|e| e.to_string())
}

fn main() {
    exit_if_help(USAGE);
    // First, while this is the only thread: see `heap` for why a server wants this.
    rtcpeer_examples::heap::restart_with_server_tunables();
    rtcpeer_examples::logging::init_with_default("warn,rtcpeer_examples::echo=info");
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("echo: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if options.listen.ip().is_unspecified() {
        eprintln!("echo: --listen needs a concrete IP (its UDP host candidate goes into the SDP)");
        std::process::exit(2);
    }
    if !["tokio", "smol", "mio"].contains(&options.runtime.as_str()) {
        eprintln!(
            "echo: runtime {:?} is not available in this build; use tokio, smol or mio\n{USAGE}",
            options.runtime
        );
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    if let Err(e) = runtime.block_on(serve(options)) {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let ip = options.listen.ip();
    let backend: Arc<dyn SessionBackend> = match options.runtime.as_str() {
        "smol" => Arc::new(AsyncEchoBackend::smol(ip, options.echo)),
        "mio" => Arc::new(MioEchoBackend::start(ip, options.echo)?),
        _ => Arc::new(AsyncEchoBackend::tokio(ip, options.echo)),
    };
    tracing::info!(config = ?options.echo, http = ?options.http, "echo server configuration");
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "listening on http://{}/ (runtime {})",
        listener.local_addr()?,
        options.runtime
    )?;
    stdout.flush()?;
    tokio::spawn(return_freed_heap(backend.clone()));
    http::serve(listener, backend, options.http).await
}

/// Once a second: when many sessions have ended since the last look, hands their freed
/// heap back to the OS (see `rtcpeer_examples::heap`).
async fn return_freed_heap(backend: Arc<dyn SessionBackend>) {
    let mut returner = HeapReturner::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let sessions = backend.session_count();
        if returner.should_trim(sessions) {
            let released = release_free_heap();
            tracing::debug!(sessions, released, "freed heap handed back to the OS");
        }
    }
}
