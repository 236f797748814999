//! The codec against bytes written on a real loopback socket.

use std::io::Write;
use std::net::{TcpListener, TcpStream};

use super::{Connection, Next, Request, BODY_LIMIT};
use crate::gateway::metrics::Rejection;

/// A server-side connection and the client socket feeding it `bytes`.
fn connection(bytes: &[u8]) -> (Connection, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, peer) = listener.accept().unwrap();
    client.write_all(bytes).unwrap();
    (Connection::new(server, peer.ip()), client)
}

fn request(next: Next) -> Request {
    match next {
        Next::Request(request) => request,
        Next::Closed => panic!("closed"),
        Next::Refused(why, reply) => panic!("refused {why:?}: {reply:?}"),
    }
}

fn refusal(next: Next) -> (Rejection, u16) {
    match next {
        Next::Refused(why, reply) => (why, reply.status),
        _ => panic!("expected a refusal"),
    }
}

#[test]
fn pipelined_requests_come_out_in_order_with_their_bodies() {
    let bytes = b"POST /run/a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\
                  GET /health?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n";
    let (mut conn, client) = connection(bytes);
    let first = request(conn.next_request());
    assert_eq!(
        (first.method.as_str(), first.target.as_str()),
        ("POST", "/run/a")
    );
    assert_eq!(
        (first.body.as_slice(), first.keep_alive),
        (&b"{}"[..], true)
    );
    let second = request(conn.next_request());
    assert_eq!(
        (second.target.as_str(), second.keep_alive),
        ("/health?x=1", false)
    );
    drop(client);
    assert!(matches!(conn.next_request(), Next::Closed));
}

#[test]
fn chunked_bodies_are_joined_and_limited() {
    let (mut conn, _client) =
        connection(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    assert_eq!(request(conn.next_request()).body, b"{}");

    let over = format!("{:x}", BODY_LIMIT + 1);
    let head = format!("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{over}\r\n");
    let (mut conn, _client) = connection(head.as_bytes());
    assert_eq!(refusal(conn.next_request()), (Rejection::TooLarge, 413));
}

#[test]
fn malformed_heads_and_lengths_are_refused() {
    let cases: [(&[u8], Rejection, u16); 4] = [
        // declared over the limit: refused before any of it is read
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
            Rejection::TooLarge,
            413,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
            Rejection::BadRequest,
            400,
        ),
        (b"NOT A REQUEST\r\n\r\n", Rejection::BadRequest, 400),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            Rejection::BadRequest,
            400,
        ),
    ];
    for (bytes, why, status) in cases {
        let (mut conn, _client) = connection(bytes);
        assert_eq!(
            refusal(conn.next_request()),
            (why, status),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn http10_closes_unless_asked_to_keep_alive() {
    let (mut conn, _client) =
        connection(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    assert!(request(conn.next_request()).keep_alive);
    assert!(!request(conn.next_request()).keep_alive);
}
