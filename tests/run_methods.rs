//! What goes on the wire for each method: the generated event only with methods that carry a
//! body, without `content-length: 0` otherwise, and a body the user gave with any method.

mod support;

use support::{num, run_ok, TestServer};

/// Runs 3 invocations against the echo route and returns the body bytes that came back and
/// the last request's content-length and content-type headers.
fn wire(method: &str, extra: &[&str]) -> (u64, Option<String>, Option<String>) {
    let server = TestServer::start();
    let url = server.url("/run/echo");
    let mut args = vec![
        "run", "--url", &url, "-m", method, "-n", "3", "-c", "1", "-q",
    ];
    args.extend_from_slice(&["-o", "json"]);
    args.extend_from_slice(extra);
    let out = run_ok(&args);
    let json = out.json();
    assert_eq!(num(&json["totals"], "completed"), 3, "{}", out.stderr);
    assert_eq!(server.count(), 3);
    (
        num(&json["totals"], "bytes_received"),
        server.last_header("content-length"),
        server.last_header("content-type"),
    )
}

#[test]
fn bodiless_methods_send_no_event_and_no_empty_length() {
    for method in ["GET", "DELETE", "OPTIONS"] {
        let (bytes, length, kind) = wire(method, &[]);
        assert_eq!(bytes, 0, "{method}");
        assert_eq!(length, None, "{method}");
        assert_eq!(kind, None, "{method}");
    }
}

#[test]
fn methods_with_a_body_send_the_event_as_json() {
    for method in ["POST", "PUT", "PATCH"] {
        let (bytes, length, kind) = wire(method, &["--ops", "fast"]);
        let event = r#"{"operation":"fast","worker_id":0}"#;
        assert_eq!(bytes, 3 * event.len() as u64, "{method}");
        assert_eq!(length, Some(event.len().to_string()), "{method}");
        assert_eq!(kind.as_deref(), Some("application/json"), "{method}");
    }
}

#[test]
fn a_body_the_user_gave_goes_with_any_method() {
    for method in ["GET", "DELETE", "POST"] {
        let (bytes, length, _) = wire(method, &["--body", r#"{"a":1}"#]);
        assert_eq!(bytes, 21, "{method}");
        assert_eq!(length.as_deref(), Some("7"), "{method}");
    }
    let (bytes, length, _) = wire("POST", &["--body", ""]);
    assert_eq!((bytes, length.as_deref()), (0, Some("0")));
}
