//! HTTP/1.1 on one connection: reading requests (head, then a `Content-Length` or chunked
//! body of at most 1 MiB) and writing answers, with keep-alive and pipelining.
//!
//! The gateway gives every connection a thread of its own running this small codec. A pool
//! that hands accepted connections to whichever threads happen to be idle can leave a burst
//! of them queued behind long-lived keep-alive connections until those close, and a burst
//! of keep-alive connections is exactly what a load test opens. Parsing is `httparse`'s.

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};

#[cfg(test)]
mod tests;
mod write;

use super::metrics::Rejection;
use super::reply::Reply;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Largest request head (request line and headers).
const HEAD_LIMIT: usize = 64 * 1024;

const MAX_HEADERS: usize = 64;

/// One request, body included.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub peer: IpAddr,
    /// Whether the client keeps the connection for another request.
    pub keep_alive: bool,
    http10: bool,
}

impl Request {
    /// The first header named `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }
}

/// What reading the next request gave.
pub enum Next {
    Request(Request),
    /// The client closed (or went idle too long) between requests.
    Closed,
    /// A request the gateway will not serve; answer it, then close the connection, since
    /// where the next request would start is unknown.
    Refused(Rejection, Reply),
}

/// A parsed request head: the request without its body, and how the body comes.
struct Head {
    request: Request,
    head_len: usize,
    length: Option<usize>,
    chunked: bool,
    expects_continue: bool,
}

/// One client connection: the socket and the bytes read but not yet used.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    peer: IpAddr,
}

impl Connection {
    pub fn new(stream: TcpStream, peer: IpAddr) -> Self {
        Connection {
            stream,
            buffer: Vec::with_capacity(4096),
            peer,
        }
    }

    /// Reads the next request.
    pub fn next_request(&mut self) -> Next {
        match self.read_request() {
            Ok(next) => next,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                refuse(Rejection::BadRequest, 400, e)
            }
            Err(_) => Next::Closed,
        }
    }

    fn read_request(&mut self) -> io::Result<Next> {
        let Head {
            mut request,
            head_len,
            length,
            chunked,
            expects_continue,
        } = loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(&self.buffer) {
                Ok(httparse::Status::Complete(head_len)) => break self.head(parsed, head_len),
                Ok(httparse::Status::Partial) if self.buffer.len() > HEAD_LIMIT => {
                    return Ok(refuse(
                        Rejection::BadRequest,
                        431,
                        "request head over 64 KiB",
                    ));
                }
                Ok(httparse::Status::Partial) => {
                    if self.fill()? == 0 {
                        return Ok(Next::Closed);
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Ok(refuse(Rejection::BadRequest, 431, "more than 64 headers"));
                }
                Err(e) => return Ok(refuse(Rejection::BadRequest, 400, e)),
            }
        }?;
        self.buffer.drain(..head_len);
        if length.is_some_and(|n| n > BODY_LIMIT) {
            return Ok(too_large());
        }
        if expects_continue && (chunked || length.is_some_and(|n| n > self.buffer.len())) {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        request.body = match (chunked, length) {
            (true, _) => match self.read_chunked()? {
                Some(body) => body,
                None => return Ok(too_large()),
            },
            (false, Some(length)) => {
                while self.buffer.len() < length {
                    if self.fill()? == 0 {
                        return Ok(Next::Closed);
                    }
                }
                self.buffer.drain(..length).collect()
            }
            (false, None) => Vec::new(),
        };
        Ok(Next::Request(request))
    }

    /// The request without its body, and how the body comes.
    fn head(&self, parsed: httparse::Request, head_len: usize) -> io::Result<Head> {
        let headers: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).trim().to_string(),
                )
            })
            .collect();
        let http10 = parsed.version == Some(0);
        let mut request = Request {
            method: parsed.method.unwrap_or_default().to_string(),
            target: parsed.path.unwrap_or_default().to_string(),
            headers,
            body: Vec::new(),
            peer: self.peer,
            keep_alive: false,
            http10,
        };
        let connection = request
            .header("Connection")
            .unwrap_or_default()
            .to_ascii_lowercase();
        request.keep_alive = if http10 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        };
        let chunked = request
            .header("Transfer-Encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        let length = match request.header("Content-Length") {
            None => None,
            Some(text) => Some(
                text.parse::<usize>()
                    .map_err(|_| bad("bad Content-Length"))?,
            ),
        };
        let expects_continue = request
            .header("Expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
        Ok(Head {
            request,
            head_len,
            length,
            chunked,
            expects_continue,
        })
    }

    /// A chunked body, or `None` when it grows over the limit.
    fn read_chunked(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut body = Vec::new();
        loop {
            let (size_len, size) = loop {
                match httparse::parse_chunk_size(&self.buffer) {
                    Ok(httparse::Status::Complete(found)) => break found,
                    Ok(httparse::Status::Partial) if self.buffer.len() < 1024 => self.need()?,
                    _ => return Err(bad("bad chunk size")),
                }
            };
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            if size > BODY_LIMIT - body.len() {
                return Ok(None);
            }
            self.buffer.drain(..size_len);
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while !self.buffer.starts_with(b"\r\n") {
                    match self.buffer.windows(2).position(|w| w == b"\r\n") {
                        Some(end) => drop(self.buffer.drain(..end + 2)),
                        None if self.buffer.len() < HEAD_LIMIT => self.need()?,
                        None => return Err(bad("trailers too long")),
                    }
                }
                self.buffer.drain(..2);
                return Ok(Some(body));
            }
            while self.buffer.len() < size + 2 {
                self.need()?;
            }
            body.extend_from_slice(&self.buffer[..size]);
            self.buffer.drain(..size + 2);
        }
    }

    /// Reads more bytes; 0 means the client closed.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads more bytes, failing when the client closed mid-request.
    fn need(&mut self) -> io::Result<()> {
        match self.fill()? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            _ => Ok(()),
        }
    }
}

fn refuse(why: Rejection, status: u16, message: impl std::fmt::Display) -> Next {
    Next::Refused(
        why,
        Reply::error(status, format!("malformed request: {message}")),
    )
}

fn too_large() -> Next {
    let message = format!("request body over the limit of {BODY_LIMIT} bytes");
    Next::Refused(Rejection::TooLarge, Reply::error(413, message))
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
