//! One answer of the gateway before it is written out, so that routes are plain functions
//! returning values and every error body has the same `{"error": ...}` shape.

use std::fmt::Display;

use serde_json::{json, Value};

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
}
