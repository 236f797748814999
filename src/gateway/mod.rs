//! `fnstress serve`: the built-in gateway hosting demo functions. It gives `fnstress run` a
//! target with known behaviour (operation latencies, failures, auth, throttling) and its own
//! exact counts, so that a load test can be checked end to end on one machine.

mod auth;
mod body;
mod dashboard;
mod functions;
mod http;
mod lambda;
mod metrics;
mod metrics_json;
mod options;
mod prometheus;
mod ratelimit;
mod reply;
mod routes;
mod server;

use crate::error::{exit, Error, Result};
use crate::messages;

use options::Request;

/// Help text of `fnstress serve`.
pub const HELP: &str = "\
fnstress serve: start the built-in gateway with demo functions

Usage: fnstress serve [OPTIONS]

Options:
  --listen <IP:PORT>     address to listen on; port 0 picks a free port
                         [default: 127.0.0.1:8080]
  --api-key <KEY>        require this key in X-API-Key or Authorization: Bearer on every
                         route but /health [default: env API_KEY, else no key]
  --rate-limit <N>       allow N requests per minute per client IP, then answer 429 with
                         Retry-After [default: no limit]
  --time-scale <F>       multiply every simulated wait by F; 0 turns waits off, for
                         throughput runs [default: 1]
  --require-sigv4        answer 403 to invocations without an AWS SigV4 Authorization
                         header (its presence is checked, not the signature)
  -h, --help             print this help

Routes:
  POST /run/{name}                                 invoke with a JSON object body (1 MiB max)
  POST /function/{name}                            the same, OpenFaaS style
  POST /2015-03-31/functions/{name}/invocations    AWS Lambda style: a failure is a 200
                                                   with X-Amz-Function-Error: Unhandled;
                                                   X-Amz-Invocation-Type: Event answers 202,
                                                   DryRun 204; X-Amz-Log-Type: Tail adds a
                                                   base64 X-Amz-Log-Result whose REPORT line
                                                   has Init Duration on a cold start
  GET  /functions   GET /health (no key needed)   GET /metrics[/{name}]
       (/metrics answers Prometheus text with Accept: text/plain or ?format=prometheus)
  GET  /dashboard   a live page of the function metrics, refreshed every second
       (the page needs no key; it asks for one when /metrics does)

Cold starts: a function's first invocation, and the first after 5 idle minutes, waits a
simulated init of 50-150 ms (times --time-scale) before it runs.

Functions:
  custom-metrics  {\"operation\": \"default\"|\"fast\"|\"slow\"|\"error\"} waits 0-100, 0-50,
                  200-400 or 0-100 ms; error then fails (500)
  echo            answers with its input at once

Examples:
  fnstress serve
  fnstress serve --listen 127.0.0.1:0 --time-scale 0
  API_KEY=s3cret fnstress serve --rate-limit 600
  curl -d '{\"operation\":\"fast\"}' http://127.0.0.1:8080/run/custom-metrics

Ctrl-C or SIGTERM stops it after running invocations finish (at most 10 s), exit code 0;
a second one stops it at once with exit code 130.
";

/// Entry point of `fnstress serve`; returns the exit code.
pub fn main(args: pico_args::Arguments) -> Result<i32> {
    let env_key = match std::env::var("API_KEY") {
        Ok(key) => Some(key),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Error::usage("API_KEY (environment) is not valid UTF-8"));
        }
    };
    let opts = match options::parse(args, env_key)? {
        Request::Help => {
            print!("{HELP}");
            return Ok(exit::OK);
        }
        Request::Serve(opts) => opts,
    };

    let registry = functions::Registry::demo(opts.time_scale);
    let names = registry.names();
    let gateway = routes::Gateway {
        metrics: metrics::Metrics::new(&registry),
        registry,
        api_key: opts.api_key.clone().map(auth::ApiKey::new),
        limiter: opts.rate_limit.map(ratelimit::RateLimiter::new),
        time_scale: opts.time_scale,
        require_sigv4: opts.require_sigv4,
    };
    server::serve(opts.listen, gateway, |bound| {
        messages::info(&format!(
            "gateway listening on http://{bound} (functions: {names})"
        ));
        if !bound.ip().is_loopback() && opts.api_key.is_none() {
            messages::warn("listening beyond loopback without --api-key: anyone can invoke");
        }
        let key = if opts.api_key.is_some() {
            "required"
        } else {
            "off"
        };
        let limit = opts
            .rate_limit
            .map_or("off".to_string(), |n| format!("{n}/min per client"));
        messages::info(&format!(
            "API key {key}; rate limit {limit}; time scale {}",
            opts.time_scale
        ));
    })
}
