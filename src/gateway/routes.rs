//! The HTTP API: which path and method reach which handler, in which order the checks run
//! (route, method, rate limit, key, function, body), and how each route style shows a
//! failed function, so that every route `fnstress run` can target has a real counterpart.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use super::auth::ApiKey;
use super::functions::Registry;
use super::http::Request;
use super::lambda::{self, InvocationType};
use super::metrics::{Metrics, Rejection, Sample};
use super::ratelimit::{Decision, RateLimiter};
use super::reply::Reply;
use super::{body, dashboard, metrics_json, prometheus};

/// Everything a handler needs; shared by all connection threads.
pub struct Gateway {
    pub registry: Registry,
    pub metrics: Metrics,
    pub api_key: Option<ApiKey>,
    pub limiter: Option<RateLimiter>,
    /// Multiplies simulated waits, the init time of cold starts included.
    pub time_scale: f64,
    /// Invocations must carry a SigV4 `Authorization` header (presence only).
    pub require_sigv4: bool,
}

/// How a route shows a function and its failures.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    /// `POST /run/{name}`: failure is a 500 with `{"error": ...}`.
    Run,
    /// `POST /function/{name}`, as OpenFaaS: the same answers as `Run`.
    OpenFaas,
    /// `POST /2015-03-31/functions/{name}/invocations`, as AWS Lambda: failure is a 200
    /// with `X-Amz-Function-Error: Unhandled` and an `errorMessage` body.
    Lambda,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Route<'a> {
    Health,
    Dashboard,
    Functions,
    Metrics(Option<&'a str>),
    Invoke(&'a str, Style),
}

impl<'a> Route<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        let mut segments = path.strip_prefix('/')?.split('/');
        let parts: [Option<&str>; 5] = std::array::from_fn(|_| segments.next());
        let route = match parts {
            [Some("health"), None, ..] => Route::Health,
            [Some("dashboard"), None, ..] => Route::Dashboard,
            [Some("functions"), None, ..] => Route::Functions,
            [Some("metrics"), None, ..] => Route::Metrics(None),
            [Some("metrics"), Some(name), None, ..] => Route::Metrics(Some(name)),
            [Some("run"), Some(name), None, ..] => Route::Invoke(name, Style::Run),
            [Some("function"), Some(name), None, ..] => Route::Invoke(name, Style::OpenFaas),
            [Some("2015-03-31"), Some("functions"), Some(name), Some("invocations"), None] => {
                Route::Invoke(name, Style::Lambda)
            }
            _ => return None,
        };
        match route {
            Route::Metrics(Some("")) | Route::Invoke("", _) => None,
            route => Some(route),
        }
    }

    fn allows(self, method: &str) -> bool {
        match self {
            Route::Invoke(..) => method == "POST",
            _ => matches!(method, "GET" | "HEAD"),
        }
    }
}

/// Answers one request. Functions wait through `pause`.
pub fn answer(gateway: &Gateway, request: &Request, pause: &dyn Fn(Duration)) -> Reply {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let method = request.method.as_str();
    let Some(route) = Route::parse(path) else {
        gateway.metrics.reject(Rejection::NotFound);
        return Reply::error(
            404,
            format!("no route for {method} {path}; see GET /functions"),
        );
    };
    if !route.allows(method) {
        gateway.metrics.reject(Rejection::MethodNotAllowed);
        let allowed = if matches!(route, Route::Invoke(..)) {
            "POST"
        } else {
            "GET, HEAD"
        };
        return Reply::error(
            405,
            format!("{method} is not allowed on {path}; use {allowed}"),
        )
        .with_header("Allow", allowed);
    }
    // The dashboard page holds no data; its script asks for the key when /metrics needs one.
    if !matches!(route, Route::Health | Route::Dashboard) {
        if let Some(refused) = admit(gateway, request) {
            return refused;
        }
    }

    match route {
        Route::Health => Reply::json(
            200,
            &json!({"status": "ok", "uptime_seconds": gateway.metrics.uptime().as_secs()}),
        ),
        Route::Dashboard => Reply::text(200, "text/html; charset=utf-8", dashboard::page()),
        Route::Functions => functions(&gateway.registry),
        Route::Metrics(name) => metrics(gateway, request, query, name),
        Route::Invoke(name, style) => invoke(gateway, request, name, style, pause),
    }
}

/// The rate limit, then the key: `None` when the request may go on.
fn admit(gateway: &Gateway, request: &Request) -> Option<Reply> {
    if let Some(limiter) = &gateway.limiter {
        if let Decision::Throttled { retry_after_secs } =
            limiter.check(request.peer, Instant::now())
        {
            gateway.metrics.reject(Rejection::Throttled);
            let message = format!("rate limit exceeded; retry in {retry_after_secs} s");
            return Some(
                Reply::error(429, message).with_header("Retry-After", retry_after_secs.to_string()),
            );
        }
    }
    let key = gateway.api_key.as_ref()?;
    if key.accepts(request.header("X-API-Key"), request.header("Authorization")) {
        return None;
    }
    gateway.metrics.reject(Rejection::Unauthorized);
    let message = "missing or wrong API key; send it as X-API-Key or Authorization: Bearer";
    Some(Reply::error(401, message).with_header("WWW-Authenticate", "Bearer realm=\"fnstress\""))
}

fn functions(registry: &Registry) -> Reply {
    let list: Vec<Value> = registry
        .iter()
        .map(|f| {
            json!({"name": f.name(), "description": f.description(), "operations": f.operations()})
        })
        .collect();
    Reply::json(200, &json!({ "functions": list }))
}

fn metrics(gateway: &Gateway, request: &Request, query: &str, name: Option<&str>) -> Reply {
    if let Some(name) = name {
        if gateway.registry.find(name).is_none() {
            return unknown_function(gateway, name);
        }
    }
    let prometheus = match wants_prometheus(request.header("Accept"), query) {
        Ok(prometheus) => prometheus,
        Err(reply) => {
            gateway.metrics.reject(Rejection::BadRequest);
            return reply;
        }
    };
    if prometheus {
        return Reply::text(
            200,
            prometheus::CONTENT_TYPE,
            prometheus::render(&gateway.metrics, name),
        );
    }
    match name {
        None => Reply::json(200, &metrics_json::all(&gateway.metrics)),
        Some(name) => Reply::json(
            200,
            &metrics_json::function(&gateway.metrics.snapshot(Some(name))[0]),
        ),
    }
}

/// `?format=` wins; otherwise an `Accept` naming plain text or OpenMetrics, and not JSON.
fn wants_prometheus(accept: Option<&str>, query: &str) -> Result<bool, Reply> {
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("format", "prometheus" | "text")) => return Ok(true),
            Some(("format", "json")) => return Ok(false),
            Some(("format", other)) => {
                let message = format!("format '{other}' is not known; use json or prometheus");
                return Err(Reply::error(400, message));
            }
            _ => {}
        }
    }
    let accept = accept.unwrap_or_default().to_ascii_lowercase();
    let text = accept.contains("text/plain") || accept.contains("application/openmetrics-text");
    Ok(text && !accept.contains("application/json"))
}

fn unknown_function(gateway: &Gateway, name: &str) -> Reply {
    gateway.metrics.reject(Rejection::NotFound);
    let known = gateway.registry.names();
    Reply::error(
        404,
        format!("function '{name}' does not exist; available: {known}"),
    )
}

fn invoke(
    gateway: &Gateway,
    request: &Request,
    name: &str,
    style: Style,
    pause: &dyn Fn(Duration),
) -> Reply {
    if gateway.require_sigv4 {
        if let Some(refused) = lambda::check_signature_present(request) {
            gateway.metrics.reject(Rejection::Unauthorized);
            return refused;
        }
    }
    let Some((index, function)) = gateway.registry.find(name) else {
        return unknown_function(gateway, name);
    };
    let input = match body::parse_object(&request.body) {
        Ok(input) => input,
        Err(message) => {
            gateway.metrics.reject(Rejection::BadRequest);
            return Reply::error(400, message);
        }
    };
    let kind = match style {
        Style::Lambda => match lambda::invocation_type(request) {
            Ok(kind) => kind,
            Err(reply) => {
                gateway.metrics.reject(Rejection::BadRequest);
                return reply;
            }
        },
        Style::Run | Style::OpenFaas => InvocationType::RequestResponse,
    };
    if kind == InvocationType::DryRun {
        return Reply::text(204, "application/json", String::new());
    }

    let started = Instant::now();
    // A cold function first waits out its init, as a platform starting an instance does.
    let init = gateway.metrics.is_cold(index, started).then(|| {
        let (low, high) = lambda::INIT_MS;
        let ms = rand::random_range(low..high) * gateway.time_scale;
        let init = Duration::from_secs_f64(ms / 1000.0);
        if !init.is_zero() {
            pause(init);
        }
        init
    });
    let running = Instant::now();
    let invocation = function.invoke(input, pause);
    let duration = running.elapsed();
    let cold = gateway.metrics.record(
        index,
        &Sample {
            operation: invocation.operation,
            failed: invocation.result.is_err(),
            started,
            duration,
            finished_at: SystemTime::now(),
            custom_metrics: invocation.custom_metrics,
        },
    );

    if style == Style::Lambda {
        // The metrics' count decides: an init waited out by an invocation that another one
        // beat to the first finish is not a cold start, and is not reported as one.
        let init = cold.then(|| init.unwrap_or_default());
        return lambda_reply(request, kind, invocation.result, duration, init);
    }
    match invocation.result {
        Ok(answer) => Reply::json(200, &answer),
        Err(message) => Reply::json(500, &json!({"error": message, "function": name})),
    }
}

/// The Invoke API's answer: the result or a marked failure, 202 for `Event`, and the log
/// tail when asked for.
fn lambda_reply(
    request: &Request,
    kind: InvocationType,
    result: Result<Value, String>,
    duration: Duration,
    init: Option<Duration>,
) -> Reply {
    let id = lambda::request_id();
    if kind == InvocationType::Event {
        return Reply::text(202, "application/json", String::new())
            .with_header("X-Amzn-RequestId", id);
    }
    let reply = match result {
        Ok(answer) => Reply::json(200, &answer),
        Err(message) => Reply::json(
            200,
            &json!({"errorMessage": message, "errorType": "FunctionError"}),
        )
        .with_header("X-Amz-Function-Error", "Unhandled"),
    };
    let reply = reply.with_header("X-Amz-Executed-Version", "$LATEST");
    if lambda::wants_log_tail(request) {
        let log = lambda::log_result(&id, duration, init);
        return reply
            .with_header("X-Amz-Log-Result", log)
            .with_header("X-Amzn-RequestId", id);
    }
    reply.with_header("X-Amzn-RequestId", id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        let cases = [
            ("/health", Some(Route::Health)),
            ("/functions", Some(Route::Functions)),
            ("/dashboard", Some(Route::Dashboard)),
            ("/dashboard/x", None),
            ("/metrics", Some(Route::Metrics(None))),
            ("/metrics/echo", Some(Route::Metrics(Some("echo")))),
            ("/run/echo", Some(Route::Invoke("echo", Style::Run))),
            (
                "/function/echo",
                Some(Route::Invoke("echo", Style::OpenFaas)),
            ),
            (
                "/2015-03-31/functions/echo/invocations",
                Some(Route::Invoke("echo", Style::Lambda)),
            ),
            // extra or missing segments, trailing slashes, empty names
            ("/run/echo/x", None),
            ("/run/", None),
            ("/metrics/", None),
            ("/health/", None),
            ("/2015-03-31/functions/echo", None),
            ("health", None),
            ("/", None),
        ];
        for (path, expected) in cases {
            assert_eq!(Route::parse(path), expected, "{path}");
        }
    }

    #[test]
    fn metrics_format_follows_query_then_accept() {
        let cases = [
            (None, "", false),
            (Some("*/*"), "", false),
            (Some("text/plain"), "", true),
            (
                Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
                "",
                true,
            ),
            (Some("application/json, text/plain"), "", false),
            (None, "format=prometheus", true),
            (Some("text/plain"), "x=1&format=json", false),
        ];
        for (accept, query, expected) in cases {
            assert_eq!(
                wants_prometheus(accept, query).unwrap(),
                expected,
                "{accept:?} {query}"
            );
        }
        assert_eq!(
            wants_prometheus(None, "format=xml").unwrap_err().status,
            400
        );
    }
}
