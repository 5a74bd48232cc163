//! The server case on the async adapters (tokio, smol): many connections on one
//! [`AsyncEndpoint`] socket, and one shared DTLS certificate.

use super::peer::AsyncAdapter;
use super::scenario::within;
use rtcpeer::dtls::DtlsCertificate;
use rtcpeer::peer_connection::RtcConfiguration;
use rtcpeer::runtime::{
    AsyncEndpoint, AsyncPeerConnection, AsyncTimer, AsyncUdpSocket, BoxFuture, DataChannel,
    Message, Runtime, SocketConfig, generate_certificate,
};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A runtime that counts the sockets it binds, so a test fails if the endpoint binds a
/// second one.
#[derive(Debug)]
pub struct CountingRuntime {
    inner: Arc<dyn Runtime>,
    pub sockets_bound: AtomicUsize,
}

impl CountingRuntime {
    pub fn new(inner: Arc<dyn Runtime>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            sockets_bound: AtomicUsize::new(0),
        })
    }
}

impl Runtime for CountingRuntime {
    fn now(&self) -> Instant {
        self.inner.now()
    }
    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        self.inner.new_timer(deadline)
    }
    fn spawn(&self, future: BoxFuture<()>) {
        self.inner.spawn(future);
    }
    fn bind(&self, config: &SocketConfig) -> io::Result<Vec<Arc<dyn AsyncUdpSocket>>> {
        let sockets = self.inner.bind(config)?;
        self.sockets_bound
            .fetch_add(sockets.len(), Ordering::SeqCst);
        Ok(sockets)
    }
    fn resolve(&self, host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
        self.inner.resolve(host, port)
    }
    fn seed(&self) -> [u8; 32] {
        self.inner.seed()
    }
    fn system_time(&self) -> std::time::SystemTime {
        self.inner.system_time()
    }
}

/// One client connection (sockets of its own) and its server side on the endpoint.
struct Session {
    client: AsyncPeerConnection,
    server: AsyncPeerConnection,
    at_client: DataChannel,
    at_server: DataChannel,
}

/// The port of every `a=candidate` of `sdp`.
fn candidate_ports(sdp: &str) -> Vec<u16> {
    sdp.lines()
        .filter(|l| l.starts_with("a=candidate"))
        .filter_map(|l| l.split(' ').nth(5)?.parse().ok())
        .collect()
}

fn fingerprint(sdp: &str) -> String {
    sdp.lines()
        .find(|l| l.starts_with("a=fingerprint"))
        .expect("a fingerprint line")
        .to_owned()
}

async fn open_session(
    rt: &Arc<dyn Runtime>,
    endpoint: &AsyncEndpoint,
    certificate: &DtlsCertificate,
) -> (Session, String) {
    let client = AsyncPeerConnection::new(
        rt.clone(),
        RtcConfiguration::default(),
        &SocketConfig::loopback(),
    )
    .expect("client");
    let config = RtcConfiguration {
        certificate: Some(certificate.clone()),
        ..RtcConfiguration::default()
    };
    let server = endpoint.new_peer_connection(config).expect("server");
    let at_client = client
        .create_data_channel("echo", Default::default())
        .await
        .expect("channel");
    let offer = client.create_offer().await.expect("offer");
    client.set_local_description(offer).await.expect("sld");
    let offer = client.wait_gathering_complete().await.expect("gathered");
    server.set_remote_description(offer).await.expect("srd");
    let answer = server.create_answer().await.expect("answer");
    server.set_local_description(answer).await.expect("sld");
    let answer = server.wait_gathering_complete().await.expect("gathered");
    client
        .set_remote_description(answer.clone())
        .await
        .expect("srd");
    let at_server = server.accept_channel().await.expect("client's channel");
    at_client.wait_open().await.expect("open");
    let session = Session {
        client,
        server,
        at_client,
        at_server,
    };
    (session, answer.sdp)
}

/// Client `i` sends a message, the server side echoes it, the client reads it back.
async fn echo_once(session: &Session, i: usize, round: usize) {
    let text = format!("session {i} round {round}");
    session.at_client.send_text(&text).await.expect("send");
    let got = session.at_server.recv().await.expect("message at server");
    assert_eq!(
        got,
        Message::Text(text.clone()),
        "server side of session {i}"
    );
    session.at_server.send(got).expect("echo");
    let back = session.at_client.recv().await.expect("echo at client");
    assert_eq!(back, Message::Text(text), "client side of session {i}");
}

/// `count` clients connect to one endpoint of `shards` driver tasks: every server
/// connection uses the endpoint's one port (one socket per shard, and no other is bound),
/// all present the one shared certificate, data flows both ways on each, and closing one
/// leaves the others working. With several shards, the kernel spreads the clients over
/// the shards' sockets regardless of which shard owns their connection, so datagrams
/// must have been handed between shards; with one, none are.
pub async fn many_connections_on_one_port(base: Arc<dyn Runtime>, count: usize, shards: usize) {
    let counting = CountingRuntime::new(base.clone());
    let rt: Arc<dyn Runtime> = counting.clone();
    let adapter = AsyncAdapter(base.clone());
    let endpoint = AsyncEndpoint::with_shards(rt.clone(), &SocketConfig::loopback(), shards)
        .expect("endpoint");
    assert_eq!(endpoint.shards(), shards);
    assert_eq!(endpoint.local_addrs().len(), 1);
    let port = endpoint.local_addrs()[0].port();
    let certificate = generate_certificate(&*base).expect("certificate");
    let mut sessions = Vec::new();
    let mut fingerprints = Vec::new();
    for i in 0..count {
        let (session, answer) = within(
            &adapter,
            30,
            "session setup",
            open_session(&base, &endpoint, &certificate),
        )
        .await;
        let ports = candidate_ports(&answer);
        assert!(!ports.is_empty(), "session {i}: no candidate");
        assert!(
            ports.iter().all(|p| *p == port),
            "session {i}: candidates {ports:?} not all on the endpoint's port {port}"
        );
        assert_eq!(session.server.local_addrs(), endpoint.local_addrs());
        fingerprints.push(fingerprint(&answer));
        sessions.push(session);
    }
    assert_eq!(
        counting.sockets_bound.load(Ordering::SeqCst),
        shards,
        "the endpoint binds one socket per shard"
    );
    let expected = format!("a=fingerprint:{}", certificate.fingerprint());
    assert!(
        fingerprints.iter().all(|f| *f == expected),
        "every connection presents the shared certificate: {fingerprints:?} vs {expected}"
    );
    assert_eq!(endpoint.connection_count(), count);
    for (i, s) in sessions.iter().enumerate() {
        within(&adapter, 20, "echo", echo_once(s, i, 0)).await;
    }
    let closed = sessions.remove(0);
    within(&adapter, 20, "close one", closed.server.close()).await;
    within(&adapter, 20, "client sees the close", async {
        while closed.at_client.recv().await.is_some() {}
    })
    .await;
    assert_eq!(endpoint.connection_count(), count - 1);
    for (i, s) in sessions.iter().enumerate() {
        within(&adapter, 20, "echo after a close", echo_once(s, i + 1, 1)).await;
    }
    let stats = endpoint.stats();
    assert!(stats.routed > 0, "{stats:?}");
    let forwarded = endpoint.forwarded();
    if shards == 1 {
        assert_eq!(forwarded, 0, "one shard has nobody to hand datagrams to");
    } else {
        assert!(
            forwarded > 0,
            "{count} clients over {shards} sockets, none received by another shard"
        );
    }
    for s in sessions {
        s.client.close().await;
        s.server.close().await;
    }
    closed.client.close().await;
    assert_eq!(endpoint.connection_count(), 0);
}
