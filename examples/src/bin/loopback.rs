//! `loopback`: two rtcpeer peers in one process, over real UDP on 127.0.0.1, on the tokio
//! adapter. They connect (non-trickle offer/answer), open a channel, and one sends
//! `--mib` MiB in `--chunk`-byte binary messages to the other, which checks order and
//! content. Prints the setup time and the throughput.
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin loopback -- --mib 64 --chunk 16384
//! ```

use rtcpeer_examples::args::Args;
use rtcpeer_examples::transfer::{payload, progress};
use rtcpeer_tokio::{Message, PeerConnection, RtcConfiguration, SocketConfig, new_peer_connection};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn pair() -> Result<(PeerConnection, PeerConnection), Error> {
    // Seed 0: each peer draws its seed from the OS.
    let a = new_peer_connection(RtcConfiguration::default(), &SocketConfig::loopback())?;
    let b = new_peer_connection(RtcConfiguration::default(), &SocketConfig::loopback())?;
    Ok((a, b))
}

async fn run(total: u64, chunk: usize) -> Result<(), Error> {
    let started = Instant::now();
    let (a, b) = pair()?;
    let channel = a
        .create_data_channel("loopback", Default::default())
        .await?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer).await?;
    let offer = a.wait_gathering_complete().await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer).await?;
    let answer = b.wait_gathering_complete().await?;
    a.set_remote_description(answer).await?;
    let mut events = b.events();
    let remote = loop {
        match tokio::time::timeout(Duration::from_secs(20), events.next()).await? {
            Some(rtcpeer_tokio::Event::DataChannel(id)) => break b.data_channel(id),
            Some(_) => {}
            None => return Err("peer b ended before the channel arrived".into()),
        }
    };
    channel.wait_open().await?;
    let setup = started.elapsed();
    println!(
        "setup: {:.1} ms (sockets, certificates, ICE, DTLS, SCTP, channel open)",
        setup.as_secs_f64() * 1e3
    );

    let count = total.div_ceil(chunk as u64);
    let receiver = tokio::spawn(async move {
        for i in 0..count {
            match remote.recv().await {
                Some(Message::Binary(data)) if data == payload(i, chunk) => {}
                Some(_) => return Err(format!("message {i} is wrong")),
                None => return Err(format!("channel ended after {i} messages")),
            }
        }
        Ok(())
    });
    let sending = Instant::now();
    for i in 0..count {
        channel.send_binary(payload(i, chunk)).await?;
        if i % 64 == 0 || i + 1 == count {
            progress((i + 1) * chunk as u64, count * chunk as u64, sending);
        }
    }
    receiver.await??;
    let seconds = sending.elapsed().as_secs_f64();
    let bytes = count * chunk as u64;
    eprintln!();
    println!(
        "throughput: {:.1} MB/s ({} messages of {} B, {:.2} s), order and content checked",
        bytes as f64 / 1e6 / seconds,
        count,
        chunk,
        seconds
    );
    a.close().await;
    b.close().await;
    Ok(())
}

const USAGE: &str = "usage: loopback [--mib N (16)] [--chunk BYTES (16384, 8..=262144)]";

fn main() {
    rtcpeer_examples::args::exit_if_help(USAGE);
    rtcpeer_examples::logging::init();
    let parsed = Args::parse(std::env::args().skip(1), &[]).and_then(|args| {
        let unknown = args.unknown(&["mib", "chunk"]);
        if !unknown.is_empty() {
            return Err(format!("unknown option(s): --{}", unknown.join(", --")));
        }
        Ok((args.get("mib", 16u64)?, args.get("chunk", 16384usize)?))
    });
    let (mib, chunk) = match parsed {
        Ok((mib, chunk)) if (8..=256 * 1024).contains(&chunk) => (mib, chunk),
        Ok(_) => {
            eprintln!("loopback: --chunk must be within 8..=262144");
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("loopback: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    if let Err(e) = runtime.block_on(run(mib << 20, chunk)) {
        eprintln!("\nloopback: {e}");
        std::process::exit(1);
    }
}
