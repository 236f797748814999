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

mod build;
#[cfg(test)]
mod tests;
mod values;

use build::*;
pub use values::*;

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
