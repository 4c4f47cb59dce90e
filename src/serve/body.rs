//! A request body read whole, but never more than a limit: a declared `Content-Length` over it is
//! refused before a byte of the body is read, and a body without one (chunked) is cut off as soon
//! as it passes the limit.
//!
//! A refused body stays unread on the connection, so the connection must not be reused: `refuse`
//! empties the request's body (oxhttp would otherwise read the rest after the answer is made,
//! before sending it) and marks the request `Connection: close`, which oxhttp reads after the
//! answer is made: it sends the answer and then closes.

use std::io::{ErrorKind, Read};

use oxhttp::model::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use oxhttp::model::{Body, HeaderValue, Request};

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than {} MB ({limit} bytes)", limit / (1 << 20))]
    TooLarge { limit: u64 },
    #[error("no data came for too long while reading the body")]
    TimedOut,
    #[error("the body could not be read: {0}")]
    Unreadable(String),
}

/// The whole body of `request`, at most `limit` bytes. On an error the request is `refuse`d.
pub fn read_limited(request: &mut Request<Body>, limit: u64) -> Result<Vec<u8>, BodyError> {
    let result = read(request, limit);
    if result.is_err() {
        refuse(request);
    }
    result
}

fn read(request: &mut Request<Body>, limit: u64) -> Result<Vec<u8>, BodyError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut bytes = Vec::new();
    // One byte past the limit tells a body that is too large from one that is exactly the limit.
    match request.body_mut().take(limit + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 > limit => Err(BodyError::TooLarge { limit }),
        Ok(_) => Ok(bytes),
        Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => Err(BodyError::TimedOut),
        Err(e) => Err(BodyError::Unreadable(e.to_string())),
    }
}

/// For a request answered without its body: when it has one, `refuse`s it.
pub fn leave_unread(request: &mut Request<Body>) {
    let headers = request.headers();
    let empty =
        headers.get(TRANSFER_ENCODING).is_none() && headers.get(CONTENT_LENGTH).is_none_or(|v| v.as_bytes() == b"0");
    if !empty {
        refuse(request);
    }
}

/// Leaves the rest of `request`'s body unread and has the connection closed after the answer.
pub fn refuse(request: &mut Request<Body>) {
    *request.body_mut() = Body::empty();
    request
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
}
