//! `echo`: an HTTP server whose page opens a WebRTC data channel to it; every message comes
//! back on the same channel, text as text and binary as binary.
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin echo -- --listen 127.0.0.1:8080
//! ```
//!
//! Options: `--listen IP:PORT` (HTTP and the UDP sockets' IP; port 0 picks one),
//! `--runtime tokio|smol|mio` (the `rtcpeer-tokio` or `rtcpeer-smol` adapter; or one
//! hand-written mio loop thread over the sans-IO core), `--max-sessions N` (default 256),
//! `--media echo|decline` (send each audio/video track back, the default; or reject them).
//! `--ice-server URL` (repeatable: `stun:host:port`, `turn:host:port`,
//! `turn:user:pass@host:port`; `--turn-user`/`--turn-pass` for URLs without credentials),
//! `--relay-only` (only relayed candidates, through the TURN servers).
//! Prints `listening on http://IP:PORT/` once ready. Signalling is WHIP-style: see
//! `rtcpeer_examples::echo::http`.

use rtcpeer_examples::args::Args;
use rtcpeer_examples::echo::media::{self, MediaPolicy};
use rtcpeer_examples::echo::session::{parse_ice_server, set_ice_servers};
use rtcpeer_examples::echo::{
    SessionBackend, async_backend::AsyncEchoBackend, http, mio_backend::MioEchoBackend,
};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

const USAGE: &str = "usage: echo [--listen IP:PORT] [--runtime tokio|smol|mio] [--max-sessions N] [--media echo|decline] [--ice-server URL]... [--turn-user U --turn-pass P] [--relay-only]";

struct Options {
    listen: SocketAddr,
    runtime: String,
    max_sessions: usize,
    media: MediaPolicy,
}

fn options() -> Result<Options, String> {
    let args = Args::parse(std::env::args().skip(1), &["relay-only"])?;
    let unknown = args.unknown(&[
        "listen",
        "runtime",
        "max-sessions",
        "ice-server",
        "turn-user",
        "turn-pass",
        "relay-only",
        "media",
    ]);
    if !unknown.is_empty() {
        return Err(format!("unknown option(s): --{}", unknown.join(", --")));
    }
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
    Ok(Options {
        listen: args.get("listen", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
        runtime: args.get("runtime", "tokio".to_owned())?,
        max_sessions: args.get("max-sessions", 256)?,
        media: args.get("media", MediaPolicy::Echo)?,
    })
}

fn main() {
    rtcpeer_examples::logging::init();
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
    media::set_policy(options.media);
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    if let Err(e) = runtime.block_on(serve(options)) {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let backend: Arc<dyn SessionBackend> = match options.runtime.as_str() {
        "smol" => Arc::new(AsyncEchoBackend::smol(
            options.listen.ip(),
            options.max_sessions,
        )),
        "mio" => Arc::new(MioEchoBackend::start(
            options.listen.ip(),
            options.max_sessions,
        )?),
        _ => Arc::new(AsyncEchoBackend::tokio(
            options.listen.ip(),
            options.max_sessions,
        )),
    };
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "listening on http://{}/ (runtime {})",
        listener.local_addr()?,
        options.runtime
    )?;
    stdout.flush()?;
    http::serve(listener, backend).await
}
