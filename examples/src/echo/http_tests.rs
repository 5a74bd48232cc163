//! The HTTP layer over a recording test double: status codes, headers and bodies of each
//! route, on a real listener on 127.0.0.1.

use super::backend::{BackendError, BoxFuture, Created, SessionBackend, SessionId, SessionStats};
use super::http::{HttpLimits, MAX_SDP_BYTES, serve};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A data channel offer (`a=setup:actpass`), as the HTTP layer's admission check wants.
const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
    m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
    a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";

/// The answer to it (`a=setup:active`).
const ANSWER: &str = "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
    m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
    a=setup:active\r\na=mid:0\r\na=sctp-port:5000\r\n";

/// Sessions are just ids; an "SDP" is valid when it starts with `v=0`.
#[derive(Default)]
struct Double {
    sessions: Mutex<HashMap<SessionId, bool>>, // id -> waiting for an answer
    next: Mutex<u64>,
}

impl Double {
    fn add(&self, waiting: bool) -> SessionId {
        let mut next = self.next.lock().unwrap();
        *next += 1;
        let id = SessionId(u128::from(*next));
        self.sessions.lock().unwrap().insert(id, waiting);
        id
    }
}

impl SessionBackend for Double {
    fn answer_offer(
        &self,
        offer: String,
        _client: IpAddr,
    ) -> BoxFuture<Result<Created, BackendError>> {
        let result = if offer.starts_with("v=0") {
            Ok(Created {
                id: self.add(false),
                sdp: format!("v=0\r\ns=answer to {}\r\n", offer.len()),
            })
        } else {
            Err(BackendError::BadSdp("line 1: expected v=0".into()))
        };
        Box::pin(async move { result })
    }

    fn create_offer(&self, _client: IpAddr) -> BoxFuture<Result<Created, BackendError>> {
        let id = self.add(true);
        Box::pin(async move {
            Ok(Created {
                id,
                sdp: "v=0\r\ns=offer\r\n".into(),
            })
        })
    }

    fn accept_answer(&self, id: SessionId, answer: String) -> BoxFuture<Result<(), BackendError>> {
        let mut sessions = self.sessions.lock().unwrap();
        let result = match sessions.get_mut(&id) {
            None => Err(BackendError::NoSession(id)),
            Some(false) => Err(BackendError::WrongState(id)),
            Some(_) if !answer.starts_with("v=0") => Err(BackendError::BadSdp("bad".into())),
            Some(waiting) => {
                *waiting = false;
                Ok(())
            }
        };
        Box::pin(async move { result })
    }

    fn close(&self, id: SessionId) -> bool {
        self.sessions.lock().unwrap().remove(&id).is_some()
    }

    fn stats(&self, id: SessionId) -> Option<SessionStats> {
        self.sessions
            .lock()
            .unwrap()
            .contains_key(&id)
            .then(|| SessionStats {
                state: "connected".into(),
                messages_received: 3,
                ..SessionStats::default()
            })
    }

    fn session_count(&self) -> usize {
        self.sessions.lock().unwrap().len()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn start() -> std::net::SocketAddr {
    start_with(HttpLimits::default()).await
}

async fn start_with(limits: HttpLimits) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, Arc::new(Double::default()), limits));
    addr
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), read to the end.
async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| l.split_once(": ").unwrap())
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

const SDP: (&str, &str) = ("Content-Type", "application/sdp");

#[tokio::test]
async fn offer_is_answered_with_201_location_and_sdp() {
    let addr = start().await;
    let reply = request(addr, "POST", "/offer", &[SDP], OFFER.as_bytes()).await;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.header("location"),
        Some("/sessions/00000000000000000000000000000001")
    );
    assert_eq!(reply.header("content-type"), Some("application/sdp"));
    assert_eq!(
        reply.body,
        format!("v=0\r\ns=answer to {}\r\n", OFFER.len())
    );
}

#[tokio::test]
async fn offer_without_sdp_content_type_is_415() {
    let addr = start().await;
    let reply = request(
        addr,
        "POST",
        "/offer",
        &[("Content-Type", "text/plain")],
        OFFER.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 415);
}

#[tokio::test]
async fn offer_with_content_type_parameters_is_accepted() {
    let addr = start().await;
    let reply = request(
        addr,
        "POST",
        "/offer",
        &[("Content-Type", "Application/SDP; charset=utf-8")],
        OFFER.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 201);
}

#[tokio::test]
async fn invalid_offer_is_400_with_the_reason() {
    let addr = start().await;
    let reply = request(addr, "POST", "/offer", &[SDP], b"hello").await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("line 1"), "{}", reply.body);
}

#[tokio::test]
async fn oversized_offer_is_refused_with_413() {
    let addr = start().await;
    let body = vec![b'a'; MAX_SDP_BYTES + 1];
    let reply = request(addr, "POST", "/offer", &[SDP], &body).await;
    assert_eq!(reply.status, 413);
}

#[tokio::test]
async fn deleting_a_session_frees_it_once() {
    let addr = start().await;
    let created = request(addr, "POST", "/offer", &[SDP], OFFER.as_bytes()).await;
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(
        request(addr, "GET", "/sessions", &[], b"").await.body,
        r#"{"sessions":1}"#
    );
    assert_eq!(
        request(addr, "DELETE", &location, &[], b"").await.status,
        204
    );
    assert_eq!(
        request(addr, "DELETE", &location, &[], b"").await.status,
        404
    );
    assert_eq!(
        request(addr, "GET", "/sessions", &[], b"").await.body,
        r#"{"sessions":0}"#
    );
}

#[tokio::test]
async fn stats_are_json_and_404_for_unknown_sessions() {
    let addr = start().await;
    let created = request(addr, "POST", "/offer", &[SDP], OFFER.as_bytes()).await;
    let location = created.header("location").unwrap();
    let reply = request(addr, "GET", &format!("{location}/stats"), &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let stats: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(stats["messagesReceived"], 3);
    assert_eq!(
        request(addr, "GET", "/sessions/ffff/stats", &[], b"")
            .await
            .status,
        404
    );
    assert_eq!(
        request(addr, "GET", "/sessions/not-hex/stats", &[], b"")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn server_offer_then_client_answer_is_204_once() {
    let addr = start().await;
    let offer = request(addr, "POST", "/sessions", &[], b"").await;
    assert_eq!(offer.status, 201);
    assert_eq!(offer.body, "v=0\r\ns=offer\r\n");
    let answer_path = format!("{}/answer", offer.header("location").unwrap());
    assert_eq!(
        request(addr, "PUT", &answer_path, &[SDP], ANSWER.as_bytes())
            .await
            .status,
        204
    );
    assert_eq!(
        request(addr, "PUT", &answer_path, &[SDP], ANSWER.as_bytes())
            .await
            .status,
        409
    );
    assert_eq!(
        request(
            addr,
            "PUT",
            "/sessions/77/answer",
            &[SDP],
            ANSWER.as_bytes()
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn cross_origin_pages_may_post_sdp_and_read_location() {
    let addr = start().await;
    let preflight = request(
        addr,
        "OPTIONS",
        "/offer",
        &[
            ("Origin", "http://127.0.0.1:1"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap()
            .contains("content-type")
    );
    let created = request(addr, "POST", "/offer", &[SDP], OFFER.as_bytes()).await;
    assert_eq!(
        created.header("access-control-expose-headers"),
        Some("location")
    );
}

#[tokio::test]
async fn root_serves_the_demo_page() {
    let addr = start().await;
    let reply = request(addr, "GET", "/", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(reply.body.contains("fetch('/offer'"));
}

#[tokio::test]
async fn an_answer_posted_as_offer_is_refused_and_makes_no_session() {
    let addr = start().await;
    let reply = request(addr, "POST", "/offer", &[SDP], ANSWER.as_bytes()).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("this is an answer"), "{}", reply.body);
    assert_eq!(
        request(addr, "GET", "/sessions", &[], b"").await.body,
        r#"{"sessions":0}"#
    );
}

#[tokio::test]
async fn an_offer_put_as_answer_is_refused_and_the_session_still_waits() {
    let addr = start().await;
    let offer = request(addr, "POST", "/sessions", &[], b"").await;
    let answer_path = format!("{}/answer", offer.header("location").unwrap());
    let refused = request(addr, "PUT", &answer_path, &[SDP], OFFER.as_bytes()).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("this is an offer"),
        "{}",
        refused.body
    );
    let accepted = request(addr, "PUT", &answer_path, &[SDP], ANSWER.as_bytes()).await;
    assert_eq!(accepted.status, 204);
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
async fn read_until_closed(
    stream: &mut tokio::net::TcpStream,
    limit: Duration,
) -> (String, Duration) {
    let started = Instant::now();
    let mut raw = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut raw)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open for {limit:?}"
    );
    (
        String::from_utf8_lossy(&raw).into_owned(),
        started.elapsed(),
    )
}

fn short_timeouts() -> HttpLimits {
    HttpLimits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    }
}

#[tokio::test]
async fn a_slow_request_head_is_cut_off_at_the_header_timeout() {
    let addr = start_with(short_timeouts()).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /offer HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, after) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(after < Duration::from_secs(2), "closed after {after:?}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_at_the_header_timeout() {
    let addr = start_with(short_timeouts()).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sent, after) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(after < Duration::from_secs(2), "closed after {after:?}");
    assert!(!sent.contains("201"), "{sent}");
}

#[tokio::test]
async fn a_slow_request_body_gets_408_and_the_connection_closes() {
    let addr = start_with(short_timeouts()).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /offer HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n\
                Content-Length: 1000\r\n\r\nv=0\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (sent, after) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(after < Duration::from_secs(2), "closed after {after:?}");
}

#[tokio::test]
async fn connections_beyond_the_per_client_limit_are_closed_at_once() {
    let addr = start_with(HttpLimits {
        max_connections_per_client: 2,
        ..HttpLimits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sent, after) = read_until_closed(&mut third, Duration::from_secs(2)).await;
    assert_eq!(sent, "");
    assert!(after < Duration::from_secs(1), "closed after {after:?}");
    drop(held);
    // Once the held connections are gone, a new one is served again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reply = request(addr, "GET", "/sessions", &[], b"").await;
    assert_eq!(reply.status, 200);
}
