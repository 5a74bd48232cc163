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
//!
//! Every answer allows cross-origin use (`Access-Control-Allow-Origin: *`, `Location`
//! exposed), so a page served elsewhere (the interop tests) can signal directly.

use super::backend::{BackendError, Created, SessionBackend, SessionId};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use std::sync::Arc;

/// Largest SDP body accepted.
pub const MAX_SDP_BYTES: usize = 64 * 1024;

const SDP: &str = "application/sdp";
const PAGE: &str = include_str!("page.html");

type Backend = Arc<dyn SessionBackend>;

/// A request refused before it reaches the backend: status and reason.
type Refused = (StatusCode, String);

/// The server's routes over `backend`.
pub fn router(backend: Backend) -> Router {
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
        .layer(DefaultBodyLimit::max(MAX_SDP_BYTES))
        .layer(axum::middleware::map_response(allow_cross_origin))
        .with_state(backend)
}

/// Serves `router(backend)` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, backend: Backend) -> std::io::Result<()> {
    axum::serve(listener, router(backend)).await
}

impl IntoResponse for BackendError {
    fn into_response(self) -> Response {
        let status = match &self {
            BackendError::BadSdp(_) => StatusCode::BAD_REQUEST,
            BackendError::NoSession(_) => StatusCode::NOT_FOUND,
            BackendError::WrongState(_) => StatusCode::CONFLICT,
            BackendError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
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
    headers: HeaderMap,
    offer: String,
) -> Response {
    if let Err(refused) = require_sdp(&headers) {
        return refused.into_response();
    }
    match backend.answer_offer(offer).await {
        Ok(answer) => created(answer),
        Err(e) => e.into_response(),
    }
}

async fn create_offer(State(backend): State<Backend>) -> Response {
    match backend.create_offer().await {
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
