//! One answer of the gateway before it becomes a `tiny_http` response, so that routes are
//! plain functions returning values and every error body has the same `{"error": ...}` shape.

use std::fmt::Display;
use std::io::Cursor;

use serde_json::{json, Value};
use tiny_http::{Header, Response, StatusCode};

/// Status, media type, body and extra headers of one answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, value: &Value) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        Reply {
            status,
            content_type: "application/json",
            body,
            headers: Vec::new(),
        }
    }

    /// A JSON error answer: `{"error": message}`.
    pub fn error(status: u16, message: impl Display) -> Self {
        Reply::json(status, &json!({ "error": message.to_string() }))
    }

    /// A text answer of the given media type.
    pub fn text(status: u16, content_type: &'static str, body: String) -> Self {
        Reply {
            status,
            content_type,
            body: body.into_bytes(),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The `tiny_http` response; headers that are not valid ASCII are dropped, since only
    /// the gateway's own code builds them.
    pub fn into_response(self) -> Response<Cursor<Vec<u8>>> {
        let mut response = Response::from_data(self.body).with_status_code(StatusCode(self.status));
        let content_type = ("Content-Type", self.content_type.to_string());
        for (name, value) in std::iter::once(content_type).chain(self.headers) {
            if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(header);
            }
        }
        response
    }
}
