//! The API key and the per-client rate limit of `fnstress serve`, over real HTTP: who gets
//! 401 or 429, with which headers, and that `/health` stays public.

mod common_gateway;

use common_gateway::Gateway;

const RUN: &str = "/run/echo";

fn post_with(gateway: &Gateway, headers: &[(&str, &str)]) -> u16 {
    gateway.request("POST", RUN, headers, Some(b"{}")).status
}

#[test]
fn without_a_key_every_route_is_open() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    assert_eq!(post_with(&gateway, &[]), 200);
    assert_eq!(gateway.get("/metrics").status, 200);
    assert_eq!(gateway.get("/functions").status, 200);
}

#[test]
fn a_key_is_required_in_either_header_except_on_health() {
    let gateway = Gateway::start(&["--api-key", "s3cret", "--time-scale", "0"]);

    let refused = gateway.request("POST", RUN, &[], Some(b"{}"));
    assert_eq!(refused.status, 401);
    assert!(refused.json()["error"]
        .as_str()
        .unwrap()
        .contains("API key"));
    assert!(refused
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));

    assert_eq!(post_with(&gateway, &[("X-API-Key", "s3cret")]), 200);
    assert_eq!(
        post_with(&gateway, &[("Authorization", "Bearer s3cret")]),
        200
    );
    assert_eq!(post_with(&gateway, &[("X-API-Key", "wrong")]), 401);
    assert_eq!(
        post_with(&gateway, &[("Authorization", "Bearer wrong")]),
        401
    );
    assert_eq!(
        post_with(&gateway, &[("Authorization", "Basic s3cret")]),
        401
    );

    for path in ["/metrics", "/metrics/echo", "/functions"] {
        assert_eq!(gateway.get(path).status, 401, "{path}");
    }
    assert_eq!(
        gateway
            .request("GET", "/metrics", &[("X-API-Key", "s3cret")], None)
            .status,
        200
    );
    assert_eq!(gateway.get("/health").status, 200);

    // only the accepted invocations reached the function
    let metrics = gateway
        .request("GET", "/metrics", &[("X-API-Key", "s3cret")], None)
        .json();
    assert_eq!(metrics["functions"]["echo"]["execution_count"], 2);
    assert_eq!(metrics["rejections"]["unauthorized"], 7);
}

#[test]
fn the_key_can_come_from_the_environment() {
    let gateway = Gateway::start_with_env(&["--time-scale", "0"], &[("API_KEY", "from-env")]);
    assert!(gateway.stderr_shows("API key required"));
    assert_eq!(post_with(&gateway, &[]), 401);
    assert_eq!(post_with(&gateway, &[("X-API-Key", "from-env")]), 200);
}

#[test]
fn over_the_rate_limit_a_client_gets_429_with_retry_after() {
    let gateway = Gateway::start(&["--rate-limit", "4", "--time-scale", "0"]);
    for _ in 0..4 {
        assert_eq!(post_with(&gateway, &[]), 200);
    }
    let throttled = gateway.request("POST", RUN, &[], Some(b"{}"));
    assert_eq!(throttled.status, 429);
    assert!(throttled.json()["error"]
        .as_str()
        .unwrap()
        .contains("rate limit"));
    // 4 per minute: a token comes back every 15 s
    let retry_after: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=15).contains(&retry_after),
        "Retry-After: {retry_after}"
    );

    // every route but /health counts toward the limit
    assert_eq!(gateway.get("/metrics").status, 429);
    assert_eq!(gateway.get("/health").status, 200);
    assert_eq!(gateway.get("/health").status, 200);
}
