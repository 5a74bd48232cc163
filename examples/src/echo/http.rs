//! The echo server's HTTP signalling, WHIP-style (non-trickle): the client POSTs a complete
//! SDP offer and gets a complete answer back.
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | the demo page (data channel chat with live stats) |
//! | `POST /offer` (`application/sdp` offer) | `201 Created`, `Location: /sessions/{id}`, SDP answer |
//! | `POST /sessions` (empty) | `201 Created`, `Location`, the server's own SDP offer |
//! | `PUT /sessions/{id}/answer` (`application/sdp`) | `204` once the answer is applied |
//! | `GET /sessions/{id}/stats` | the session's live figures as JSON |
//! | `DELETE /sessions/{id}` | `204`, the session is closed and freed |
//! | `GET /sessions` | `{"sessions": n}`, how many are alive |
//! | `GET /stats` | `{"sessions", "rssBytes", "cpuSeconds"}`: the process's figures, for load tests |
//!
//! Every answer allows cross-origin use (`Access-Control-Allow-Origin: *`, `Location`
//! exposed), so a page served elsewhere (the interop tests) can signal directly.
//!
//! The session URL is the session's credential: its id is 128 random bits. An answer
//! POSTed as an offer, or an offer PUT as an answer, is refused (400, see
//! [`admission`]), as is an offer with nothing to echo.
//!
//! [`serve`] holds up against slow and greedy clients ([`HttpLimits`]): a connection must
//! deliver each request head within `header_timeout` (also the idle limit between
//! keep-alive requests) and its body within `body_timeout` (else `408`); at most
//! `max_connections` connections are open, and `max_connections_per_client` from one IP
//! address; connections beyond either are closed at once.

use super::admission;
use super::backend::{BackendError, Created, SessionBackend, SessionId};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use rtcpeer::capacity::ShrinkWhenSparse;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest SDP body accepted.
pub const MAX_SDP_BYTES: usize = 64 * 1024;

const SDP: &str = "application/sdp";
const PAGE: &str = include_str!("page.html");

type Backend = Arc<dyn SessionBackend>;

/// A request refused before it reaches the backend: status and reason.
type Refused = (StatusCode, String);

/// Limits of the HTTP layer against slow and greedy clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time to receive a request head (from the connection's start or the previous
    /// response); a connection that does not deliver one in time is closed.
    pub header_timeout: Duration,
    /// Time to receive a request body once its head arrived; `408` and close after.
    pub body_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one IP address.
    pub max_connections_per_client: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            max_connections: 512,
            max_connections_per_client: 32,
        }
    }
}

/// The server's routes over `backend`; request bodies must arrive within `body_timeout`.
/// Handlers read the client's address from a [`ConnectInfo`] extension, which [`serve`]
/// adds.
pub fn router(backend: Backend, body_timeout: Duration) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/offer", post(answer_offer).options(preflight))
        .route(
            "/sessions",
            get(count).post(create_offer).options(preflight),
        )
        .route(
            "/sessions/{id}",
            axum::routing::delete(close).options(preflight),
        )
        .route(
            "/sessions/{id}/answer",
            put(accept_answer).options(preflight),
        )
        .route("/sessions/{id}/stats", get(stats))
        .route("/stats", get(server_stats))
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            read_body_in_time,
        ))
        .layer(DefaultBodyLimit::max(MAX_SDP_BYTES))
        .layer(axum::middleware::map_response(allow_cross_origin))
        .with_state(backend)
}

/// Serves `router(backend)` on `listener` within `limits` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    backend: Backend,
    limits: HttpLimits,
) -> std::io::Result<()> {
    let app = router(backend, limits.body_timeout);
    let open = Arc::new(OpenConnections::default());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: let the other connections finish.
                tracing::warn!(%e, "echo http: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = OpenConnections::admit(&open, peer.ip(), &limits) else {
            tracing::debug!(%peer, "echo http: connection limit reached; closed");
            continue;
        };
        let app = app.clone().layer(axum::Extension(ConnectInfo(peer)));
        tokio::spawn(serve_connection(stream, app, limits, slot));
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    limits: HttpLimits,
    _slot: Slot,
) {
    let io = hyper_util::rt::TokioIo::new(stream);
    let service = hyper_util::service::TowerToHyperService::new(app);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service);
    if let Err(e) = connection.await {
        tracing::debug!(%e, "echo http: connection ended");
    }
}

/// Open connections, in total and per client address.
#[derive(Debug, Default)]
struct OpenConnections {
    inner: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
struct Slot {
    open: Arc<OpenConnections>,
    client: IpAddr,
}

impl OpenConnections {
    fn admit(open: &Arc<Self>, client: IpAddr, limits: &HttpLimits) -> Option<Slot> {
        let mut guard = open.inner.lock().expect("connection count lock");
        let (total, per_client) = &mut *guard;
        let theirs = per_client.entry(client).or_default();
        if *total >= limits.max_connections || *theirs >= limits.max_connections_per_client {
            if *theirs == 0 {
                per_client.remove(&client);
            }
            return None;
        }
        *theirs += 1;
        *total += 1;
        Some(Slot {
            open: Arc::clone(open),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut guard = self.open.inner.lock().expect("connection count lock");
        let (total, per_client) = &mut *guard;
        *total -= 1;
        if let Some(theirs) = per_client.get_mut(&self.client) {
            *theirs -= 1;
            if *theirs == 0 {
                per_client.remove(&self.client);
                per_client.shrink_when_sparse();
            }
        }
    }
}

/// Reads the whole request body within `limit` (`408` and close otherwise; `413` beyond
/// [`MAX_SDP_BYTES`]) before the handler runs.
async fn read_body_in_time(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(limit, axum::body::to_bytes(body, MAX_SDP_BYTES)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body above {MAX_SDP_BYTES} bytes"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            "request body not received in time",
        )
            .into_response(),
    }
}

impl IntoResponse for BackendError {
    fn into_response(self) -> Response {
        let status = match &self {
            BackendError::BadSdp(_) => StatusCode::BAD_REQUEST,
            BackendError::NoSession(_) => StatusCode::NOT_FOUND,
            BackendError::WrongState(_) => StatusCode::CONFLICT,
            BackendError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            BackendError::ClientBusy(..) => StatusCode::TOO_MANY_REQUESTS,
            BackendError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}

/// `415` unless the request says its body is SDP.
fn require_sdp(headers: &HeaderMap) -> Result<(), Refused> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let is_sdp = content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(SDP));
    if is_sdp {
        Ok(())
    } else {
        Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/sdp".to_owned(),
        ))
    }
}

fn created(created: Created) -> Response {
    let location = format!("/sessions/{}", created.id);
    (
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::CONTENT_TYPE, SDP.to_owned()),
        ],
        created.sdp,
    )
        .into_response()
}

fn parse_id(id: &str) -> Result<SessionId, Refused> {
    id.parse()
        .map_err(|_| (StatusCode::NOT_FOUND, format!("no session {id}")))
}

async fn answer_offer(
    State(backend): State<Backend>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    offer: String,
) -> Response {
    if let Err(refused) = require_sdp(&headers) {
        return refused.into_response();
    }
    if let Err(refused) = admission::check_offer(&offer) {
        return refused.into_response();
    }
    match backend.answer_offer(offer, client.ip()).await {
        Ok(answer) => created(answer),
        Err(e) => e.into_response(),
    }
}

async fn create_offer(
    State(backend): State<Backend>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
) -> Response {
    match backend.create_offer(client.ip()).await {
        Ok(offer) => created(offer),
        Err(e) => e.into_response(),
    }
}

async fn accept_answer(
    State(backend): State<Backend>,
    Path(id): Path<String>,
    headers: HeaderMap,
    answer: String,
) -> Response {
    let id = match require_sdp(&headers).and_then(|()| parse_id(&id)) {
        Ok(id) => id,
        Err(refused) => return refused.into_response(),
    };
    if let Err(refused) = admission::check_answer(&answer) {
        return refused.into_response();
    }
    match backend.accept_answer(id, answer).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn close(State(backend): State<Backend>, Path(id): Path<String>) -> Response {
    match parse_id(&id) {
        Ok(id) if backend.close(id) => StatusCode::NO_CONTENT.into_response(),
        Ok(id) => BackendError::NoSession(id).into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn stats(State(backend): State<Backend>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(refused) => return refused.into_response(),
    };
    match backend.stats(id) {
        Some(stats) => json(stats.to_json()),
        None => BackendError::NoSession(id).into_response(),
    }
}

async fn count(State(backend): State<Backend>) -> Response {
    json(serde_json::json!({ "sessions": backend.session_count() }))
}

/// The server's own figures: live sessions, resident memory and CPU time used so far
/// (from `/proc`; `null` elsewhere), so that a load generator can report them.
async fn server_stats(State(backend): State<Backend>) -> Response {
    use crate::bench::system::{cpu_time, rss_bytes};
    json(serde_json::json!({
        "sessions": backend.session_count(),
        "rssBytes": rss_bytes(),
        "cpuSeconds": cpu_time().map(|t| t.as_secs_f64()),
    }))
}

fn json(value: serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET, POST, PUT, DELETE, OPTIONS",
            ),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ],
    )
        .into_response()
}

async fn allow_cross_origin(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("location"),
    );
    response
}
