//! Simulated latencies of `fnstress serve`, checked on the gateway's own metrics, and the
//! promise that slow invocations wait side by side instead of queueing.

mod common_gateway;

use std::io::BufReader;
use std::net::TcpStream;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use common_gateway::{raw_exchange, raw_post, Gateway};
use serde_json::Value;

const RUN: &str = "/run/custom-metrics";

/// Invokes `operation` `count` times at once and returns the gateway's stats of it.
fn invoke_at_once(gateway: &Gateway, operation: &str, count: usize) -> Value {
    thread::scope(|scope| {
        for _ in 0..count {
            scope.spawn(|| {
                let reply = gateway.post(RUN, &format!(r#"{{"operation":"{operation}"}}"#));
                assert!(
                    reply.status == 200 || operation == "error",
                    "{}",
                    reply.body
                );
            });
        }
    });
    gateway.get("/metrics/custom-metrics").json()["operations"][operation].clone()
}

fn average_ms(stats: &Value) -> f64 {
    stats["average_duration_ms"].as_f64().unwrap()
}

#[test]
fn operations_take_the_time_of_their_range() {
    let gateway = Gateway::start(&[]);
    let ranges = [
        ("fast", 20, 0.0, 50.0),
        ("default", 20, 0.0, 100.0),
        ("error", 10, 0.0, 100.0),
    ];
    for (operation, count, low, high) in ranges {
        let stats = invoke_at_once(&gateway, operation, count);
        assert_eq!(stats["execution_count"], count as u64, "{operation}");
        let average = average_ms(&stats);
        assert!(
            average > low && average <= high,
            "{operation}: average {average} ms"
        );
    }
    let slow = invoke_at_once(&gateway, "slow", 10);
    let average = average_ms(&slow);
    // 200 to 400 ms, plus scheduling slack on a busy machine
    assert!(
        (200.0..450.0).contains(&average),
        "slow: average {average} ms"
    );
}

#[test]
fn time_scale_zero_removes_the_waits() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let started = Instant::now();
    let slow = invoke_at_once(&gateway, "slow", 20);
    assert_eq!(slow["execution_count"], 20);
    assert!(
        average_ms(&slow) < 5.0,
        "slow without waits: {} ms",
        average_ms(&slow)
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_thousand_slow_invocations_overlap() {
    const CLIENTS: usize = 1000;
    let gateway = Gateway::start(&[]);
    let ready = Barrier::new(CLIENTS + 1);
    let request = raw_post(RUN, r#"{"operation":"slow"}"#);

    let (elapsed, statuses) = thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (gateway, ready, request) = (&gateway, &ready, &request);
                thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn_scoped(scope, move || {
                        // Connect before the start, so that only the invocations are timed.
                        let mut stream = TcpStream::connect(&gateway.addr).expect("connect");
                        let mut reader = BufReader::new(stream.try_clone().unwrap());
                        ready.wait();
                        raw_exchange(&mut stream, &mut reader, request).0
                    })
                    .expect("spawn client")
            })
            .collect();
        ready.wait();
        let started = Instant::now();
        let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        (started.elapsed(), statuses)
    });

    assert!(
        statuses.iter().all(|s| *s == 200),
        "not all 200: {statuses:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "1000 slow invocations took {elapsed:?}"
    );
    let stats = gateway.get("/metrics/custom-metrics").json();
    assert_eq!(
        stats["operations"]["slow"]["execution_count"],
        CLIENTS as u64
    );
}
