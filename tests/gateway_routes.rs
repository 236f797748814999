//! Every route of `fnstress serve` and every error status, over real HTTP on loopback; after
//! each refused request the gateway must still serve.

mod common_gateway;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use common_gateway::{raw_exchange, raw_post, Gateway};
use serde_json::json;

const RUN: &str = "/run/custom-metrics";
const LAMBDA: &str = "/2015-03-31/functions/custom-metrics/invocations";

fn assert_still_serving(gateway: &Gateway) {
    let health = gateway.get("/health");
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (200, json!("ok"))
    );
}

#[test]
fn read_routes_answer_json() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    assert_still_serving(&gateway);

    let functions = gateway.get("/functions").json();
    let names: Vec<_> = functions["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["name"])
        .collect();
    assert_eq!(names, [&json!("custom-metrics"), &json!("echo")]);
    assert_eq!(
        functions["functions"][0]["operations"],
        json!(["default", "fast", "slow", "error"])
    );

    let metrics = gateway.get("/metrics");
    assert_eq!(metrics.header("content-type"), Some("application/json"));
    let metrics = metrics.json();
    assert_eq!(metrics["functions"]["echo"]["execution_count"], 0);
    assert_eq!(gateway.get("/metrics/echo").json()["function"], "echo");
    assert!(gateway.get("/metrics/nope").json()["error"]
        .as_str()
        .unwrap()
        .contains("nope"));
}

#[test]
fn every_invocation_route_invokes_and_counts() {
    let gateway = Gateway::start(&["--time-scale", "0"]);

    let fast = gateway.post(RUN, r#"{"operation":"fast"}"#);
    assert_eq!(fast.status, 200);
    assert_eq!(fast.header("content-type"), Some("application/json"));
    let fast = fast.json();
    assert_eq!(
        (fast["function"].clone(), fast["operation"].clone()),
        (json!("custom-metrics"), json!("fast"))
    );
    assert!(fast["duration_ms"].is_number());

    // empty body counts as {}: the default operation, and echo answers {}
    assert_eq!(gateway.post(RUN, "").json()["operation"], "default");
    assert_eq!(
        gateway.request("POST", RUN, &[], None).json()["operation"],
        "default"
    );
    assert_eq!(gateway.post("/run/echo", "").json(), json!({}));
    let input = json!({"operation": "slow", "nested": {"list": [1, 2.5, "x", null]}});
    assert_eq!(gateway.post("/run/echo", &input.to_string()).json(), input);

    // OpenFaaS and Lambda routes reach the same functions
    assert_eq!(
        gateway
            .post("/function/custom-metrics", r#"{"operation":"fast"}"#)
            .status,
        200
    );
    let lambda = gateway.post(LAMBDA, r#"{"operation":"fast"}"#);
    assert_eq!(
        (lambda.status, lambda.header("x-amz-function-error")),
        (200, None)
    );

    let metrics = gateway.get("/metrics/custom-metrics").json();
    assert_eq!(metrics["execution_count"], 5);
    assert_eq!(metrics["operations"]["fast"]["execution_count"], 3);
    assert_eq!(metrics["custom_metrics"]["success.total"]["count"], 5);
    assert_eq!(gateway.get("/metrics/echo").json()["execution_count"], 2);
}

#[test]
fn a_failing_function_shows_in_the_style_of_each_route() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let body = r#"{"operation":"error"}"#;

    for path in [RUN, "/function/custom-metrics"] {
        let reply = gateway.post(path, body);
        assert_eq!(reply.status, 500, "{path}");
        assert!(reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("simulated failure"));
    }
    let lambda = gateway.post(LAMBDA, body);
    assert_eq!(lambda.status, 200);
    assert_eq!(lambda.header("x-amz-function-error"), Some("Unhandled"));
    assert!(lambda.json()["errorMessage"]
        .as_str()
        .unwrap()
        .contains("simulated failure"));

    // failed invocations reached the function: they count, as errors
    let metrics = gateway.get("/metrics/custom-metrics").json();
    assert_eq!(
        (
            metrics["execution_count"].clone(),
            metrics["error_count"].clone()
        ),
        (json!(3), json!(3))
    );
    assert_eq!(metrics["custom_metrics"]["errors.total"]["count"], 3);
}

#[test]
fn refused_requests_get_their_status_and_the_gateway_keeps_serving() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let over_limit = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1024 * 1024));
    let at_limit = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1024 * 1024 - 10));
    assert_eq!(at_limit.len(), 1024 * 1024);

    let cases: Vec<(&str, &str, Option<&str>, u16)> = vec![
        ("POST", "/run/nope", Some("{}"), 404),
        ("POST", "/function/nope", Some("{}"), 404),
        (
            "POST",
            "/2015-03-31/functions/nope/invocations",
            Some("{}"),
            404,
        ),
        ("GET", "/nowhere", None, 404),
        ("GET", "/run/echo/extra", None, 404),
        ("GET", RUN, None, 405),
        ("PUT", RUN, Some("{}"), 405),
        ("POST", "/health", Some("{}"), 405),
        ("DELETE", "/metrics", None, 405),
        ("POST", RUN, Some("{not json"), 400),
        ("POST", RUN, Some("[1, 2]"), 400),
        ("POST", RUN, Some("\"text\""), 400),
        ("GET", "/metrics?format=xml", None, 400),
        ("POST", "/run/echo", Some(&over_limit), 413),
        ("POST", "/run/echo", Some(&at_limit), 200),
    ];
    for (method, path, body, status) in cases {
        let reply = gateway.request(method, path, &[], body.map(str::as_bytes));
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        if status != 200 {
            assert!(
                reply.json()["error"].is_string(),
                "{method} {path}: {}",
                reply.body
            );
        }
        if status == 405 {
            assert!(
                reply.header("allow").is_some(),
                "{method} {path}: Allow header"
            );
        }
        assert_still_serving(&gateway);
    }

    let rejections = gateway.get("/metrics").json()["rejections"].clone();
    assert_eq!(rejections["not_found"], 5);
    assert_eq!(rejections["method_not_allowed"], 4);
    assert_eq!(rejections["bad_request"], 4);
    assert_eq!(rejections["too_large"], 1);
}

#[test]
fn deeply_nested_json_is_refused_without_harm() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(gateway.post("/run/echo", &deep).status, 400);
    // nesting just under the JSON parser's limit works, on the handler's small stack
    let deepest = format!("{}1{}", r#"{"a":"#.repeat(120), "}".repeat(120));
    let reply = gateway.post("/run/echo", &deepest);
    assert_eq!((reply.status, reply.body), (200, deepest));
    assert_still_serving(&gateway);
}

#[test]
fn keep_alive_carries_many_invocations_on_one_connection() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let mut stream = TcpStream::connect(&gateway.addr).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for i in 0..50 {
        let (status, body) = raw_exchange(
            &mut stream,
            &mut reader,
            &raw_post("/run/echo", &format!(r#"{{"i":{i}}}"#)),
        );
        assert_eq!((status, body), (200, format!(r#"{{"i":{i}}}"#)));
    }
    // a refused request does not end the connection either
    let (status, _) = raw_exchange(&mut stream, &mut reader, &raw_post("/run/echo", "[]"));
    assert_eq!(status, 400);
    let (status, _) = raw_exchange(&mut stream, &mut reader, &raw_post("/run/echo", "{}"));
    assert_eq!(status, 200);
}

#[test]
fn execution_counts_are_exact_under_concurrency() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    thread::scope(|scope| {
        for worker in 0..8 {
            let gateway = &gateway;
            scope.spawn(move || {
                for i in 0..50 {
                    let op = if (worker + i) % 5 == 0 {
                        "error"
                    } else {
                        "fast"
                    };
                    gateway.post(RUN, &format!(r#"{{"operation":"{op}"}}"#));
                }
            });
        }
    });
    let metrics = gateway.get("/metrics/custom-metrics").json();
    assert_eq!(metrics["execution_count"], 400);
    assert_eq!(metrics["error_count"], 80);
    assert_eq!(metrics["operations"]["fast"]["execution_count"], 320);
    assert_eq!(metrics["cold_starts"], 1);
}

#[test]
fn clients_stalling_their_body_do_not_stall_others() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let stall = |length: u64| {
        let mut stream = TcpStream::connect(&gateway.addr).unwrap();
        let head =
            format!("POST /run/echo HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{");
        stream.write_all(head.as_bytes()).unwrap();
        stream
    };
    let _stalled: Vec<TcpStream> = (0..40).map(|_| stall(5000)).collect();
    assert_still_serving(&gateway);
    assert_eq!(gateway.post("/run/echo", r#"{"ok":1}"#).body, r#"{"ok":1}"#);

    // a body declared far over the limit is refused at once, unread, and the connection closed
    let mut huge = BufReader::new(stall(2 << 30));
    huge.get_ref()
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(common_gateway::read_response(&mut huge).0, 413);
    assert_eq!(
        huge.read(&mut [0; 16]).unwrap(),
        0,
        "connection closed after 413"
    );
    assert_eq!(gateway.get("/metrics").json()["rejections"]["too_large"], 1);
}

#[test]
fn chunked_and_http10_requests_are_understood() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let mut stream = TcpStream::connect(&gateway.addr).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let chunked = b"POST /run/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                    4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
    assert_eq!(
        raw_exchange(&mut stream, &mut reader, chunked),
        (200, r#"{"a":1}"#.into())
    );
    // HTTP/1.0 without keep-alive: answered, then closed
    let old = b"GET /health HTTP/1.0\r\n\r\n";
    assert_eq!(raw_exchange(&mut stream, &mut reader, old).0, 200);
    assert_eq!(reader.read(&mut [0; 16]).unwrap(), 0);
    // garbage instead of a request line: 400, then closed
    let mut stream = TcpStream::connect(&gateway.addr).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    assert_eq!(
        raw_exchange(&mut stream, &mut reader, b"\x01\x02 nonsense\r\n\r\n").0,
        400
    );
    assert_still_serving(&gateway);
}
