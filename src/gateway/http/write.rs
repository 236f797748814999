//! Writing answers on a connection, and closing it after a refusal so that the client still
//! reads the answer.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use super::{Connection, Request};
use crate::gateway::reply::Reply;

/// After refusing a request, the unread rest of it is read and dropped for at most this
/// long and this much, so that the client, often still sending its body, reads the answer
/// instead of a connection reset.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 * 1024 * 1024;

impl Connection {
    /// Writes `reply` as the answer to `request` (or to a refused request when `None`).
    pub fn answer(
        &mut self,
        request: Option<&Request>,
        reply: &Reply,
        keep: bool,
    ) -> io::Result<()> {
        let head_only = request.is_some_and(|r| r.method == "HEAD");
        let http10 = request.is_some_and(|r| r.http10);
        let mut out = Vec::with_capacity(256 + reply.body.len());
        let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let _ = write!(
            out,
            "{version} {} {}\r\n",
            reply.status,
            reason(reply.status)
        );
        let _ = write!(
            out,
            "Server: fnstress\r\nContent-Type: {}\r\n",
            reply.content_type
        );
        let _ = write!(out, "Content-Length: {}\r\n", reply.body.len());
        for (name, value) in &reply.headers {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        match (keep, http10) {
            (false, _) => out.extend_from_slice(b"Connection: close\r\n"),
            (true, true) => out.extend_from_slice(b"Connection: keep-alive\r\n"),
            (true, false) => {}
        }
        out.extend_from_slice(b"\r\n");
        if !head_only {
            out.extend_from_slice(&reply.body);
        }
        self.stream.write_all(&out)
    }
    /// Closes after a refused request: no more writes, then the client's remaining bytes
    /// are read and dropped (see [`LINGER`]).
    pub fn linger(mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let _ = self.stream.set_read_timeout(Some(LINGER));
        let deadline = Instant::now() + LINGER;
        let mut chunk = [0u8; 16 * 1024];
        let mut dropped = 0;
        while Instant::now() < deadline && dropped < LINGER_BYTES {
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => dropped += n,
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}
