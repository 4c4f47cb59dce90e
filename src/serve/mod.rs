//! `mlp serve`: a draw-a-digit page and a small JSON API for one model, over HTTP/1.1 on
//! [oxhttp](https://docs.rs/oxhttp) (synchronous: one thread per connection, at most
//! `Config::connections` at once; the others wait in the listen queue).
//!
//! ```text
//! GET  /               the page (index.html, /page.css, /page.js; compiled in, see `page`)
//! GET  /api/model      the model's summary, as `mlp info --json`
//! POST /api/predict    body: a PNG, JPEG or PGM picture → one `mlp predict --json` prediction + `seen`
//! ```
//!
//! Answers: 200; 400 with `{"error"}` for a body that is not a usable picture; 404 for any other
//! path (nothing on disk is ever served); 405 (with `Allow`) for another method on a known path;
//! 408 for a body that stalls; 413 for a body over `Config::max_body`, refused before it is read
//! whole. A connection on which nothing arrives for `Config::idle_timeout` is closed (the socket's
//! read timeout, so it holds while waiting for a request, its headers or its body).

mod api;
mod body;
mod page;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxhttp::model::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use oxhttp::model::{Body, HeaderValue, Method, Request, Response, StatusCode};
use oxhttp::{ListeningServer, Server};
use serde_json::{Value, json};

pub use api::{Api, BODY_NAME};
pub use body::BodyError;
pub use page::{ASSETS, Asset, CONTENT_SECURITY_POLICY};

/// How the server listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub addr: SocketAddr,
    /// Connections served at once (one thread each).
    pub connections: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// The largest request body read, in bytes.
    pub max_body: u64,
}

impl Config {
    /// The issue's limits on `addr`: 32 connections, 10 s without data, 4 MB bodies.
    pub fn on(addr: SocketAddr) -> Self {
        Self {
            addr,
            connections: 32,
            idle_timeout: Duration::from_secs(10),
            max_body: 4 * 1024 * 1024,
        }
    }
}

/// One request answered, for the caller's log.
#[derive(Clone, Debug, PartialEq)]
pub struct Served {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub elapsed: Duration,
    /// The top class of a prediction, or why the request failed.
    pub note: Option<String>,
}

/// Starts serving `api` as `config` says; `log` hears of every request answered. Returns once
/// the server listens (an address that cannot be listened on is an error here).
pub fn start(api: Api, config: Config, log: impl Fn(&Served) + Send + Sync + 'static) -> io::Result<ListeningServer> {
    let api = Arc::new(api);
    Server::new(move |request| {
        let started = Instant::now();
        let (response, note) = respond(&api, config.max_body, request);
        log(&Served {
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            status: response.status().as_u16(),
            elapsed: started.elapsed(),
            note,
        });
        response
    })
    .bind(config.addr)
    .with_global_timeout(config.idle_timeout)
    .with_max_concurrent_connections(config.connections)
    .spawn()
}

/// The answer to `request`, and a note for the log.
fn respond(api: &Api, max_body: u64, request: &mut Request<Body>) -> (Response<Body>, Option<String>) {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let allowed = if path == "/api/predict" {
        Method::POST
    } else {
        Method::GET
    };
    let known = path == "/api/predict" || path == "/api/model" || page::asset(&path).is_some();
    if !known {
        body::leave_unread(request);
        return error(StatusCode::NOT_FOUND, format!("no such page or API: {path}"));
    }
    if method != allowed {
        body::leave_unread(request);
        let (mut response, note) = error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} answers {allowed} only, not {method}"),
        );
        let allowed = if allowed == Method::POST { "POST" } else { "GET" };
        response.headers_mut().insert(ALLOW, HeaderValue::from_static(allowed));
        return (response, note);
    }
    match path.as_str() {
        "/api/model" => (json_response(StatusCode::OK, api.summary()), None),
        "/api/predict" => predict(api, max_body, request),
        _ => {
            let asset = page::asset(&path).expect("a known path that is not the API is an asset");
            let mut response = Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, asset.content_type)
                .header(
                    HeaderName::from_static("content-security-policy"),
                    CONTENT_SECURITY_POLICY,
                )
                .body(Body::from(asset.content))
                .expect("static headers are valid");
            no_sniffing(&mut response);
            (response, None)
        }
    }
}

fn predict(api: &Api, max_body: u64, request: &mut Request<Body>) -> (Response<Body>, Option<String>) {
    let bytes = match body::read_limited(request, max_body) {
        Ok(bytes) => bytes,
        Err(e) => {
            let status = match e {
                BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                BodyError::TimedOut => StatusCode::REQUEST_TIMEOUT,
                BodyError::Unreadable(_) => StatusCode::BAD_REQUEST,
            };
            return error(status, format!("{BODY_NAME}: {e}"));
        }
    };
    match api.predict(&bytes) {
        Ok(prediction) => {
            let note = format!("→ {}", prediction["top"][0]["class"]);
            (json_response(StatusCode::OK, &prediction), Some(note))
        }
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

/// `{"error": message}` with `status`, and the message for the log.
fn error(status: StatusCode, message: String) -> (Response<Body>, Option<String>) {
    (json_response(status, &json!({ "error": message })), Some(message))
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .header(CACHE_CONTROL, "no-store")
        .body(Body::from(value.to_string()))
        .expect("static headers are valid");
    no_sniffing(&mut response);
    response
}

fn no_sniffing(response: &mut Response<Body>) {
    response.headers_mut().insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
}
