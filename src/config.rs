//! `RunConfig`: the validated settings of one `fnstress run`, built from defaults, then a
//! `--config` file, then a `-d/--data` event, then flags. Every check names the flag or key
//! it failed on and says what is accepted.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use http::Method;
use serde_json::{json, Map, Value};

use crate::client_options::ClientOptions;
use crate::duration;
use crate::engine::pacer::{parse_rate, Schedule, Stages};
use crate::error::Result;
use crate::options::{type_name, ArgKind, Layers, Origin, Setting, Spec};
use crate::payload::{Workload, DEFAULT_OPS};
use crate::platform_options::{self as platform, LambdaOptions};
use crate::shard::{self, Shard};
use crate::target::{redact_url, Function, Route, Target};
use crate::threshold::{self, Threshold};

const fn opt(key: &'static str, flag: &'static str, short: Option<&'static str>) -> Spec {
    Spec {
        key,
        flag,
        short,
        kind: ArgKind::Value,
        in_json: true,
    }
}

const fn switch(key: &'static str, flag: &'static str, short: Option<&'static str>) -> Spec {
    Spec {
        key,
        flag,
        short,
        kind: ArgKind::Switch,
        in_json: true,
    }
}

/// Every option of `fnstress run`; the JSON key is the flag in snake_case.
pub const RUN_SPECS: &[Spec] = &[
    opt("gateway", "--gateway", None),
    opt("route", "--route", None),
    opt("url", "--url", None),
    opt("target_function", "--target", Some("-t")),
    opt("concurrency", "--concurrency", Some("-c")),
    opt("duration", "--duration", Some("-z")),
    opt("requests", "--requests", Some("-n")),
    opt("timeout", "--timeout", None),
    opt("connect_timeout", "--connect-timeout", None),
    opt("grace", "--grace", None),
    opt("method", "--method", Some("-m")),
    Spec {
        key: "headers",
        flag: "--header",
        short: Some("-H"),
        kind: ArgKind::Repeat,
        in_json: true,
    },
    opt("api_key", "--api-key", None),
    opt("body", "--body", None),
    opt("body_file", "--body-file", None),
    opt("ops", "--ops", None),
    opt("payloads", "--payloads", None),
    opt("seed", "--seed", None),
    opt("rate", "--rate", None),
    opt("think", "--think", None),
    opt("stages", "--stages", None),
    switch("no_preflight", "--no-preflight", None),
    opt("aws_sigv4", "--aws-sigv4", None),
    opt("invocation_type", "--invocation-type", None),
    switch("log_tail", "--log-tail", None),
    switch("no_keepalive", "--no-keepalive", None),
    opt(
        "max_requests_per_connection",
        "--max-requests-per-connection",
        None,
    ),
    opt("warmup", "--warmup", None),
    opt("max_body", "--max-body", None),
    opt("follow_redirects", "--follow-redirects", None),
    switch("insecure", "--insecure", None),
    opt("json", "--json", None),
    opt("csv", "--csv", None),
    opt("output", "--output", Some("-o")),
    switch("quiet", "--quiet", Some("-q")),
    opt("progress_interval", "--progress-interval", None),
    opt("dashboard", "--dashboard", None),
    opt("dashboard_linger", "--dashboard-linger", None),
    opt("html", "--html", None),
    Spec {
        key: "thresholds",
        flag: "--threshold",
        short: None,
        kind: ArgKind::Repeat,
        in_json: true,
    },
    switch("abort_on_fail", "--abort-on-fail", None),
    opt("shard", "--shard", None),
    switch("split_concurrency", "--split-concurrency", None),
];

/// Default gateway of `--gateway`.
pub const DEFAULT_GATEWAY: &str = "http://127.0.0.1:8080";
/// Default function of `-t/--target`.
pub const DEFAULT_TARGET: &str = "custom-metrics";

/// Where the report goes on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// The JSON report.
    Json,
}

/// How invocations are paced.
#[derive(Clone, Debug, PartialEq)]
pub enum Load {
    /// Each worker invokes again as soon as its answer is in (after an optional think time);
    /// with stages, the number of active workers follows the ramp.
    Closed {
        /// Uniform pause between a worker's invocations.
        think: Option<(Duration, Duration)>,
        /// Ramp of active workers.
        stages: Option<Stages>,
    },
    /// Invocations are due on a schedule from the start, whatever the answers do.
    Open(Schedule),
}

/// The validated settings of one run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Endpoint and method (of the first function when there are several).
    pub target: Target,
    /// Every function of the run with its endpoint and weight; at least one.
    pub functions: Vec<Function>,
    /// Lambda signing, invocation type and log tail.
    pub lambda: LambdaOptions,
    /// Invocations one connection carries before it is closed; `None`: no limit.
    pub per_connection: Option<u64>,
    /// Time at the start whose invocations stay out of the statistics.
    pub warmup: Option<Duration>,
    /// `--csv FILE`.
    pub csv_path: Option<PathBuf>,
    /// Number of workers.
    pub concurrency: usize,
    /// Closed or open model.
    pub load: Load,
    /// Deadline after the start; `None` when only a request budget ends the run.
    pub duration: Option<Duration>,
    /// Exact number of invocations across all workers.
    pub requests: Option<u64>,
    /// Per-invocation limit (connect, send and the whole answer).
    pub timeout: Duration,
    /// Limit for setting up a connection.
    pub connect_timeout: Duration,
    /// How long in-flight invocations may finish after the stop.
    pub grace: Duration,
    /// Extra request headers, in order.
    pub headers: Vec<(String, String)>,
    /// Sent as `X-API-Key`; never printed.
    pub api_key: Option<String>,
    /// What each invocation sends.
    pub workload: Workload,
    /// Seed of the workers' generators (drawn at random unless given).
    pub seed: u64,
    /// Check the TCP connection before the start.
    pub preflight: bool,
    /// Body limit, redirects and TLS checking of the workers' clients.
    pub client: ClientOptions,
    /// `--json FILE`.
    pub json_path: Option<PathBuf>,
    /// Report format on stdout.
    pub output: OutputFormat,
    /// No progress or notices on stderr.
    pub quiet: bool,
    /// Interval of the plain progress lines when stderr is not a terminal.
    pub progress_interval: Duration,
    /// `--dashboard`: the live dashboard's address and how long it stays after the run.
    pub dashboard: Option<Dashboard>,
    /// `--html FILE`.
    pub html_path: Option<PathBuf>,
    /// Pass/fail bounds judged on the report (exit 99 when one fails).
    pub thresholds: Vec<Threshold>,
    /// Stop the run once a threshold has failed on what was seen so far.
    pub abort_on_fail: bool,
    /// This process's part of a sharded run; the load settings above are already its share.
    pub shard: Option<Shard>,
    /// Id of this process's first worker across all shards, so that workers of different
    /// shards draw different operation sequences from one seed and send distinct ids.
    pub first_worker: u32,
}

/// Where the live dashboard listens and for how long it outlives the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// How the user named the option (`--dashboard` or a JSON key), for bind errors.
    pub option: String,
    /// How long the final state stays served after the report.
    pub linger: Duration,
}

impl RunConfig {
    /// Validates the layered settings into a config.
    pub fn from_layers(layers: &Layers) -> Result<RunConfig> {
        let load = build_load(layers)?;
        let mut concurrency = get_u64(layers, "concurrency", 1, 100_000)?;
        if let Load::Closed {
            stages: Some(st), ..
        } = &load
        {
            let peak = st.peak() as u64;
            match (concurrency, layers.get("concurrency")) {
                (Some(c), Some(s)) if c < peak => {
                    return Err(s.error(format!("{c} is below the {peak} workers of --stages")))
                }
                (None, _) => concurrency = Some(peak),
                _ => {}
            }
        }
        let concurrency = concurrency.unwrap_or(5) as usize;
        let requests = get_u64(layers, "requests", 1, 1_000_000_000_000)?;
        let mut duration = get_duration(layers, "duration")?;
        if let Some(st) = layers.get("stages") {
            if let Some(d) = layers.get("duration") {
                return Err(st.error(format!(
                    "cannot be combined with {}; the stages set the duration",
                    d.name()
                )));
            }
            duration = Some(match &load {
                Load::Open(Schedule::Ramp(s))
                | Load::Closed {
                    stages: Some(s), ..
                } => s.total(),
                _ => unreachable!("stages always build a ramp"),
            });
        }
        if let (Some(s), Some(d)) = (layers.get("duration"), duration) {
            if d.is_zero() {
                return Err(s.error("must be more than 0; write e.g. 30s or 2m"));
            }
        }
        // A request budget alone runs until it is spent, as hey and oha do with -n.
        let duration = match (duration, requests) {
            (Some(d), _) => Some(d),
            (None, Some(_)) => None,
            (None, None) => Some(Duration::from_secs(60)),
        };
        let timeout = positive(layers, "timeout")?.unwrap_or(Duration::from_secs(30));
        let connect_timeout =
            positive(layers, "connect_timeout")?.unwrap_or(Duration::from_secs(10));
        let grace = get_duration(layers, "grace")?.unwrap_or(Duration::from_secs(5));

        let (target, functions) = build_target(layers)?;
        let lambda = platform::lambda_options(layers, &target.route)?;
        let mut cfg = RunConfig {
            target,
            functions,
            lambda,
            per_connection: platform::per_connection(layers)?,
            warmup: platform::warmup(layers)?,
            csv_path: platform::csv_path(layers)?,
            concurrency,
            load,
            duration,
            requests,
            timeout,
            connect_timeout,
            grace,
            headers: get_headers(layers)?,
            api_key: get_api_key(layers)?,
            workload: build_workload(layers)?,
            // A drawn seed stays below 2^53 so that it survives JSON readers that hold numbers
            // as doubles, and can be copied from a report back into --seed.
            seed: get_u64(layers, "seed", 0, u64::MAX)?
                .unwrap_or_else(|| rand::random::<u64>() >> 11),
            preflight: !get_bool(layers, "no_preflight")?.unwrap_or(false),
            client: ClientOptions::from_layers(layers)?,
            json_path: get_string(layers, "json")?.map(PathBuf::from),
            output: get_output(layers)?,
            quiet: get_bool(layers, "quiet")?.unwrap_or(false),
            progress_interval: positive(layers, "progress_interval")?
                .unwrap_or(Duration::from_secs(5)),
            dashboard: get_dashboard(layers)?,
            html_path: get_string(layers, "html")?.map(PathBuf::from),
            thresholds: vec![],
            abort_on_fail: get_bool(layers, "abort_on_fail")?.unwrap_or(false),
            shard: None,
            first_worker: 0,
        };
        cfg.thresholds = threshold::from_layers(layers, &cfg.workload.operations)?;
        if let (true, Some(s)) = (cfg.thresholds.is_empty(), layers.get("abort_on_fail")) {
            if cfg.abort_on_fail {
                return Err(s.error("needs at least one --threshold to watch"));
            }
        }
        shard::apply(layers, &mut cfg)?;
        Ok(cfg)
    }

    fn load_json(&self) -> Value {
        let stages_json = |s: &Stages| -> Value {
            s.0.iter()
                .map(|st| json!({"duration_s": st.duration.as_secs_f64(), "target": st.target}))
                .collect()
        };
        match &self.load {
            Load::Closed { think, stages } => json!({
                "model": "closed",
                "think_s": think.map(|(a, b)| [a.as_secs_f64(), b.as_secs_f64()]),
                "stages": stages.as_ref().map(stages_json),
            }),
            Load::Open(Schedule::Constant(r)) => json!({"model": "open", "rate_per_s": r}),
            Load::Open(Schedule::Ramp(s)) => json!({"model": "open", "stages": stages_json(s)}),
        }
    }

    /// The configuration as reports show it, with every secret replaced.
    pub fn redacted_json(&self) -> Value {
        // A list in the -H form, so repeated headers all show.
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", redact_header(k, v)))
            .collect();
        let mix: Vec<Value> = self
            .workload
            .choices
            .iter()
            .map(|c| {
                let name = &self.workload.operations[c.operation as usize];
                json!({"operation": name, "weight": c.weight})
            })
            .collect();
        let target_function = match self.functions.as_slice() {
            [one] => json!(one.name),
            several => several
                .iter()
                .map(|f| (f.name.clone(), json!(f.weight)))
                .collect::<Map<String, Value>>()
                .into(),
        };
        let functions: Vec<Value> = self
            .functions
            .iter()
            .map(|f| json!({"name": f.name, "url": redact_url(&f.url), "weight": f.weight}))
            .collect();
        json!({
            "target_function": target_function,
            "functions": functions,
            "lambda": self.lambda.redacted_json(),
            "keepalive": self.per_connection != Some(1),
            "max_requests_per_connection": self.per_connection,
            "warmup_s": self.warmup.map(|d| d.as_secs_f64()),
            "route": self.target.route.label(),
            "url": redact_url(&self.target.url),
            "method": self.target.method.as_str(),
            "concurrency": self.concurrency,
            "duration_s": self.duration.map(|d| d.as_secs_f64()),
            "requests": self.requests,
            "timeout_s": self.timeout.as_secs_f64(),
            "connect_timeout_s": self.connect_timeout.as_secs_f64(),
            "grace_s": self.grace.as_secs_f64(),
            "headers": headers,
            "api_key": self.api_key.as_ref().map(|_| REDACTED),
            "workload": self.workload.source,
            "operations": self.workload.operations,
            "mix": mix,
            "seed": self.seed,
            "load": self.load_json(),
            "client": self.client.json(),
            "thresholds": self.thresholds.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            "abort_on_fail": self.abort_on_fail,
        })
    }
}

/// What replaces a secret in every output.
pub const REDACTED: &str = "[redacted]";

/// The API key, checked here because a key that cannot be a header value would otherwise be
/// sent empty; the message never shows the key.
fn get_api_key(layers: &Layers) -> Result<Option<String>> {
    let key = get_string(layers, "api_key")?.filter(|k| !k.is_empty());
    if let Some(k) = &key {
        if http::HeaderValue::from_str(k).is_err() {
            let s = layers.get("api_key").expect("set when a key was read");
            return Err(s.error(
                "the key has characters an HTTP header cannot carry, such as a line break \
                 (the key is not shown)",
            ));
        }
    }
    Ok(key)
}

/// Header names whose values are secrets.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "cookie",
        "token",
        "secret",
        "key",
        "password",
        "credential",
        "session",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn redact_header(name: &str, value: &str) -> String {
    if is_secret_header(name) {
        REDACTED.into()
    } else {
        value.into()
    }
}

/// The first function's target and every function's endpoint.
fn build_target(layers: &Layers) -> Result<(Target, Vec<Function>)> {
    let mix = platform::function_mix(layers)?.unwrap_or(vec![(DEFAULT_TARGET.into(), 1)]);
    let (target, gateway) = build_first_target(layers, &mix[0].0)?;
    if mix.len() > 1 && target.route == Route::Url {
        let s = layers.get("target_function").expect("set for a mix");
        return Err(
            s.error("several functions need --gateway and --route; --url names one endpoint")
        );
    }
    let mut functions = vec![];
    for (name, weight) in &mix {
        let t = match functions.is_empty() {
            true => target.clone(),
            false => {
                let method = target.method.clone();
                Target::new(name, &gateway, target.route.clone(), method, "-t")?
            }
        };
        functions.push(Function {
            name: name.clone(),
            url: t.url,
            uri: t.uri,
            weight: *weight,
        });
    }
    Ok((target, functions))
}

/// The target of `function` and the gateway (or URL) it was built from.
fn build_first_target(layers: &Layers, function: &str) -> Result<(Target, String)> {
    let method = match layers.get("method") {
        None => Method::POST,
        Some(s) => {
            let text = expect_str(s)?.to_ascii_uppercase();
            Method::from_bytes(text.as_bytes())
                .ok()
                .filter(|_| text.bytes().all(|b| b.is_ascii_alphabetic()))
                .ok_or_else(|| s.error(format!("'{text}' is not an HTTP method; use e.g. POST")))?
        }
    };
    if let Some(url) = layers.get("url") {
        for clash in ["gateway", "route"] {
            if let Some(other) = layers.get(clash) {
                return Err(url.error(format!(
                    "cannot be combined with {}; --url names the whole endpoint",
                    other.name()
                )));
            }
        }
        let text = expect_str(url)?;
        let t = Target::new(function, text, Route::Url, method, &url.name())?;
        return Ok((t, text.to_string()));
    }
    let route = match layers.get("route") {
        None => Route::Run,
        Some(s) => Route::parse(expect_str(s)?).map_err(|m| s.error(m))?,
    };
    let (gateway, flag) = match layers.get("gateway") {
        None => (DEFAULT_GATEWAY, "--gateway".to_string()),
        Some(s) => (expect_str(s)?, s.name()),
    };
    let t = Target::new(function, gateway, route, method, &flag)?;
    Ok((t, gateway.to_string()))
}

fn build_load(layers: &Layers) -> Result<Load> {
    let rate = layers.get("rate");
    let stages = layers.get("stages");
    let think = layers.get("think");
    if let (Some(r), Some(s)) = (rate, stages) {
        return Err(s.error(format!(
            "cannot be combined with {}; write rate stages such as 30s:100/s,1m:500/s",
            r.name()
        )));
    }
    let stages = match stages {
        None => None,
        Some(s) => {
            let text = expect_str(s)?;
            let ramp = Stages::parse(text, text.contains('/')).map_err(|m| s.error(m))?;
            Some((s, ramp, text.contains('/')))
        }
    };
    let open = match (rate, &stages) {
        (Some(r), _) => {
            let text = match &r.value {
                Value::Number(n) if !r.is_text() => n.to_string(),
                _ => expect_str(r)?.to_string(),
            };
            Some(Schedule::Constant(
                parse_rate(&text).map_err(|m| r.error(m))?,
            ))
        }
        (None, Some((_, ramp, true))) => Some(Schedule::Ramp(ramp.clone())),
        _ => None,
    };
    if let Some(schedule) = open {
        if let Some(t) = think {
            return Err(t.error("applies to the closed model only; it cannot go with a rate"));
        }
        return Ok(Load::Open(schedule));
    }
    let think = match think {
        None => None,
        Some(t) => Some(parse_think(expect_str(t)?).map_err(|m| t.error(m))?),
    };
    Ok(Load::Closed {
        think,
        stages: stages.map(|(_, ramp, _)| ramp),
    })
}

/// Parses `MIN..MAX` think time, e.g. `0..200ms` or `100ms..100ms`.
fn parse_think(text: &str) -> std::result::Result<(Duration, Duration), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("'{text}' is not MIN..MAX; write e.g. 0..200ms"))?;
    // `0..200ms`: a bare minimum takes the maximum's unit, as people write ranges.
    let unit: String = b
        .trim()
        .chars()
        .skip_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let a_text = if a.trim().parse::<f64>().is_ok() {
        format!("{}{unit}", a.trim())
    } else {
        a.into()
    };
    let min = duration::parse(&a_text).map_err(|m| format!("'{text}': {m}"))?;
    let max = duration::parse(b).map_err(|m| format!("'{text}': {m}"))?;
    if min > max {
        return Err(format!("'{text}': the minimum is above the maximum"));
    }
    Ok((min, max))
}

fn build_workload(layers: &Layers) -> Result<Workload> {
    let given: Vec<&Setting> = ["body", "body_file", "ops", "payloads"]
        .iter()
        .filter_map(|k| layers.get(k))
        .collect();
    if given.len() > 1 {
        return Err(given[1].error(format!(
            "cannot be combined with {}; choose one of --body, --body-file, --ops, --payloads",
            given[0].name()
        )));
    }
    let Some(s) = given.first() else {
        return Ok(Workload::from_ops_text(DEFAULT_OPS).expect("the default mix is valid"));
    };
    match s.key {
        "body" => match &s.value {
            Value::String(text) => Ok(Workload::fixed(text.clone().into_bytes())),
            v if !s.is_text() => Ok(Workload::fixed(serde_json::to_vec(v).expect("serializes"))),
            _ => unreachable!("flags are strings"),
        },
        "body_file" => {
            let path = expect_str(s)?;
            let bytes =
                std::fs::read(path).map_err(|e| s.error(format!("cannot read '{path}' ({e})")))?;
            Ok(Workload::fixed(bytes))
        }
        "payloads" => {
            let path = expect_str(s)?;
            let text = std::fs::read_to_string(path)
                .map_err(|e| s.error(format!("cannot read '{path}' ({e})")))?;
            Workload::from_payload_lines(&text, path).map_err(|m| s.error(m))
        }
        _ => ops_workload(s),
    }
}

fn ops_workload(s: &Setting) -> Result<Workload> {
    match &s.value {
        Value::String(text) => Workload::from_ops_text(text).map_err(|m| s.error(m)),
        Value::Object(map) if !s.is_text() => {
            let mut pairs = vec![];
            for (name, w) in map {
                let w = w
                    .as_u64()
                    .filter(|w| *w <= u32::MAX as u64)
                    .ok_or_else(|| {
                        s.error(format!(
                            "weight of '{name}' must be a whole number from 1 to 1000000"
                        ))
                    })?;
                pairs.push((name.clone(), w as u32));
            }
            Workload::from_ops(pairs).map_err(|m| s.error(m))
        }
        Value::Array(items) if !s.is_text() => {
            let names = items
                .iter()
                .map(|v| v.as_str().map(|n| (n.to_string(), 1)))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| s.error("expected an array of operation names"))?;
            Workload::from_ops(names).map_err(|m| s.error(m))
        }
        v => Err(s.error(format!(
            "expected \"fast=3,slow=1\", an object of weights or an array of names, got {}",
            type_name(v)
        ))),
    }
}

fn get_headers(layers: &Layers) -> Result<Vec<(String, String)>> {
    let Some(s) = layers.get("headers") else {
        return Ok(vec![]);
    };
    let pairs: Vec<(String, String)> = match &s.value {
        Value::Array(items) => {
            let mut out = vec![];
            for item in items {
                let text = item
                    .as_str()
                    .ok_or_else(|| s.error("expected strings of the form \"Name: value\""))?;
                let (k, v) = text
                    .split_once(':')
                    .ok_or_else(|| s.error(not_a_header(text)))?;
                out.push((k.trim().to_string(), v.trim().to_string()));
            }
            out
        }
        Value::Object(map) if !s.is_text() => {
            let mut out = vec![];
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| s.error(format!("value of header '{k}' must be a string")))?;
                out.push((k.clone(), v.to_string()));
            }
            out
        }
        v => return Err(s.error(format!("expected an object or array, got {}", type_name(v)))),
    };
    for (k, v) in &pairs {
        if http::HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(s.error(format!("'{k}' is not a valid header name")));
        }
        if http::HeaderValue::from_str(v).is_err() {
            return Err(s.error(format!("the value of header '{k}' has invalid characters")));
        }
    }
    Ok(pairs)
}

/// Says that `text` lacks the colon of "Name: value" without echoing what follows the name:
/// `Authorization Bearer xyz` is a header with its colon forgotten, and its value a secret.
fn not_a_header(text: &str) -> String {
    let name_len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(text.len());
    if name_len == text.len() {
        format!("'{text}' is not a header; write \"Name: value\"")
    } else {
        format!(
            "'{}...' is not a header (the rest is not shown, it may be a secret); write \
             \"Name: value\"",
            &text[..name_len]
        )
    }
}

fn get_dashboard(layers: &Layers) -> Result<Option<Dashboard>> {
    let linger = get_duration(layers, "dashboard_linger")?;
    let Some(s) = layers.get("dashboard") else {
        if let (Some(l), Some(_)) = (layers.get("dashboard_linger"), linger) {
            return Err(l.error("needs --dashboard ADDR, the dashboard that should linger"));
        }
        return Ok(None);
    };
    let text = expect_str(s)?;
    let addr = parse_listen(text).ok_or_else(|| {
        s.error(format!(
            "'{text}' is not an address to listen on; write IP:PORT such as 127.0.0.1:9100, \
             [::1]:9100, or a port alone for loopback"
        ))
    })?;
    Ok(Some(Dashboard {
        addr,
        option: s.name(),
        linger: linger.unwrap_or(Duration::ZERO),
    }))
}

/// `IP:PORT`, `[IPv6]:PORT`, `localhost:PORT`, or `PORT` / `:PORT` meaning loopback, so the
/// dashboard is reachable from elsewhere only when the user writes such an address.
fn parse_listen(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    let loopback = |port: &str| {
        port.parse::<u16>()
            .ok()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
    };
    if let Some(port) = text.strip_prefix(':').or(text.strip_prefix("localhost:")) {
        return loopback(port);
    }
    text.parse().ok().or_else(|| loopback(text))
}

fn get_output(layers: &Layers) -> Result<OutputFormat> {
    match layers.get("output") {
        None => Ok(OutputFormat::Text),
        Some(s) => match expect_str(s)? {
            "text" => Ok(OutputFormat::Text),
            "json" => Ok(OutputFormat::Json),
            other => Err(s.error(format!("'{other}' is not a format; use text or json"))),
        },
    }
}

/// The string value of a setting, or an error naming it.
pub fn expect_str(s: &Setting) -> Result<&str> {
    s.value
        .as_str()
        .ok_or_else(|| s.error(format!("expected a string, got {}", type_name(&s.value))))
}

/// An optional string setting.
pub fn get_string(layers: &Layers, key: &str) -> Result<Option<String>> {
    layers
        .get(key)
        .map(|s| expect_str(s).map(str::to_string))
        .transpose()
}

/// An optional whole number in `min..=max`.
pub fn get_u64(layers: &Layers, key: &str, min: u64, max: u64) -> Result<Option<u64>> {
    let Some(s) = layers.get(key) else {
        return Ok(None);
    };
    let accepted = if max == u64::MAX {
        format!("a whole number from {min}")
    } else {
        format!("a whole number from {min} to {max}")
    };
    let n = match &s.value {
        Value::String(t) if s.is_text() => t.trim().parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        v => return Err(s.error(format!("expected {accepted}, got {}", type_name(v)))),
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(s.error(format!("'{}' is not {accepted}", show(&s.value)))),
    }
}

/// An optional duration: text such as `90s` from flags, seconds or text from JSON.
pub fn get_duration(layers: &Layers, key: &str) -> Result<Option<Duration>> {
    let Some(s) = layers.get(key) else {
        return Ok(None);
    };
    let parsed = match &s.value {
        Value::String(t) => duration::parse(t),
        Value::Number(n) if !s.is_text() => duration::from_secs(n.as_f64().unwrap_or(-1.0)),
        v => Err(format!(
            "expected seconds or a text such as \"90s\", got {}",
            type_name(v)
        )),
    };
    parsed
        .map(Some)
        .map_err(|m| s.error(format!("'{}': {m}", show(&s.value))))
}

fn positive(layers: &Layers, key: &str) -> Result<Option<Duration>> {
    let d = get_duration(layers, key)?;
    if d == Some(Duration::ZERO) {
        return Err(layers
            .get(key)
            .expect("parsed")
            .error("must be more than 0"));
    }
    Ok(d)
}

/// An optional boolean: a switch from flags, `true`/`false` from JSON.
pub fn get_bool(layers: &Layers, key: &str) -> Result<Option<bool>> {
    let Some(s) = layers.get(key) else {
        return Ok(None);
    };
    match &s.value {
        Value::Bool(b) => Ok(Some(*b)),
        v => Err(s.error(format!("expected true or false, got {}", type_name(v)))),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads the settings every run gets from the environment (lowest precedence after defaults
/// is not enough here: an env secret must not override an explicit flag).
pub fn env_layer(layers: &mut Layers) {
    if layers.get("api_key").is_none() {
        if let Ok(key) = std::env::var("FNSTRESS_API_KEY") {
            layers.set(
                "api_key",
                Value::String(key),
                Origin::Env("FNSTRESS_API_KEY"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(event: Value, flags: &[(&'static str, &'static str, &str)]) -> Layers {
        let mut l = Layers::default();
        l.merge_json(RUN_SPECS, &event, Origin::Event).unwrap();
        for (key, flag, v) in flags {
            l.set(key, Value::String(v.to_string()), Origin::Flag(flag));
        }
        l
    }

    #[test]
    fn defaults_follow_the_seed_tool() {
        let c = RunConfig::from_layers(&Layers::default()).unwrap();
        assert_eq!(c.concurrency, 5);
        assert_eq!(c.duration, Some(Duration::from_secs(60)));
        assert_eq!(c.target.function, "custom-metrics");
        assert_eq!(c.target.url, "http://127.0.0.1:8080/run/custom-metrics");
        assert_eq!(c.workload.operations, ["default", "fast", "slow", "error"]);
    }

    #[test]
    fn flags_override_the_event_which_overrides_defaults() {
        let event = json!({"concurrency": 10, "duration": 120, "target_function": "f"});
        let c = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap();
        assert_eq!(
            (c.concurrency, c.duration),
            (10, Some(Duration::from_secs(120)))
        );
        assert_eq!(c.target.function, "f");
        let c = RunConfig::from_layers(&layers(event, &[("concurrency", "-c", "3")])).unwrap();
        assert_eq!(c.concurrency, 3);
    }

    #[test]
    fn requests_alone_has_no_deadline() {
        let c = RunConfig::from_layers(&layers(json!({"requests": 10}), &[])).unwrap();
        assert_eq!((c.requests, c.duration), (Some(10), None));
    }

    #[test]
    fn wrong_types_name_the_key() {
        let table = [
            (
                json!({"concurrency": "10"}),
                "key 'concurrency' in -d/--data: expected",
            ),
            (
                json!({"concurrency": 0}),
                "key 'concurrency' in -d/--data: '0' is not",
            ),
            (json!({"duration": -1}), "key 'duration'"),
            (
                json!({"quiet": "yes"}),
                "key 'quiet' in -d/--data: expected true or false",
            ),
            (
                json!({"headers": {"A": 1}}),
                "value of header 'A' must be a string",
            ),
            (json!({"ops": {"fast": 0}}), "weight 0 of 'fast'"),
        ];
        for (event, want) in table {
            let e = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap_err();
            assert!(e.to_string().contains(want), "{event}: {e}");
        }
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let mut l = Layers::default();
        let e = l
            .merge_json(RUN_SPECS, &json!({"concurency": 3}), Origin::Event)
            .unwrap_err();
        assert!(e.to_string().contains("did you mean 'concurrency'"), "{e}");
    }

    #[test]
    fn load_models_are_validated() {
        let c = RunConfig::from_layers(&layers(json!({"rate": "30000/m"}), &[])).unwrap();
        assert_eq!(c.load, Load::Open(Schedule::Constant(500.0)));
        let c = RunConfig::from_layers(&layers(json!({"stages": "10s:4,5s:0"}), &[])).unwrap();
        assert_eq!(
            (c.concurrency, c.duration),
            (4, Some(Duration::from_secs(15)))
        );
        let c = RunConfig::from_layers(&layers(json!({"think": "0..200ms"}), &[])).unwrap();
        let want = Some((Duration::ZERO, Duration::from_millis(200)));
        assert!(matches!(c.load, Load::Closed { think, .. } if think == want));
        let table = [
            (json!({"rate": "0"}), "key 'rate'"),
            (json!({"think": "5..1"}), "minimum is above the maximum"),
            (json!({"stages": "30s"}), "not DURATION:TARGET"),
            (
                json!({"stages": "5s:2", "duration": 3}),
                "cannot be combined",
            ),
            (json!({"rate": 5, "think": "0..1s"}), "closed model only"),
            (
                json!({"stages": "5s:8", "concurrency": 2}),
                "below the 8 workers",
            ),
        ];
        for (event, want) in table {
            let e = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap_err();
            assert!(e.to_string().contains(want), "{event}: {e}");
        }
    }

    #[test]
    fn view_options_are_validated() {
        let c = RunConfig::from_layers(&Layers::default()).unwrap();
        assert_eq!(
            (c.progress_interval, c.dashboard, c.html_path),
            (Duration::from_secs(5), None, None)
        );
        let event = json!({"dashboard": "9100", "dashboard_linger": 30, "html": "r.html",
            "progress_interval": "2s"});
        let c = RunConfig::from_layers(&layers(event, &[])).unwrap();
        let d = c.dashboard.unwrap();
        assert_eq!(d.addr, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(d.linger, Duration::from_secs(30));
        assert_eq!(d.option, "key 'dashboard' in -d/--data");
        assert_eq!(c.progress_interval, Duration::from_secs(2));
        assert_eq!(c.html_path, Some(PathBuf::from("r.html")));
        // every written form of an address, and what it means
        for (text, addr) in [
            (":9100", "127.0.0.1:9100"),
            ("localhost:0", "127.0.0.1:0"),
            ("0.0.0.0:9100", "0.0.0.0:9100"),
            ("[::1]:9100", "[::1]:9100"),
        ] {
            assert_eq!(parse_listen(text), Some(addr.parse().unwrap()), "{text}");
        }
        let table = [
            (
                json!({"dashboard": "nowhere"}),
                "key 'dashboard' in -d/--data: 'nowhere' is not",
            ),
            (json!({"dashboard": "1.2.3.4"}), "is not an address"),
            (
                json!({"dashboard_linger": "5s"}),
                "key 'dashboard_linger' in -d/--data: needs",
            ),
            (
                json!({"progress_interval": 0}),
                "key 'progress_interval' in -d/--data: must be",
            ),
            (
                json!({"html": 3}),
                "key 'html' in -d/--data: expected a string",
            ),
        ];
        for (event, want) in table {
            let e = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap_err();
            assert!(e.to_string().contains(want), "{event}: {e}");
        }
    }

    #[test]
    fn secrets_are_redacted() {
        let event = json!({"api_key": "s3cr3t", "headers": {"Authorization": "Bearer t0k"}});
        let c = RunConfig::from_layers(&layers(event, &[])).unwrap();
        let text = c.redacted_json().to_string();
        assert!(!text.contains("s3cr3t") && !text.contains("t0k"), "{text}");
    }
}
