//! Validation of the options that shape a run around real platforms: the function mix of
//! `-t`, Lambda signing, invocation type and log tail, connection reuse, the warm-up and the
//! CSV timeline. Kept apart from `config` so that each check still names its flag or key.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::config::{expect_str, get_bool, get_duration, get_string, get_u64, weight_map};
use crate::error::Result;
use crate::lambda::Signer;
use crate::options::{type_name, Layers};
use crate::target::{check_functions, parse_functions, Route};

/// Lambda settings of a run.
#[derive(Clone, Debug, Default)]
pub struct LambdaOptions {
    /// Signs every invocation when set.
    pub signer: Option<Signer>,
    /// `X-Amz-Invocation-Type`: `RequestResponse` or `Event`.
    pub invocation_type: Option<String>,
    /// Asks for the log tail (`X-Amz-Log-Type: Tail`) and counts cold starts from it.
    pub log_tail: bool,
}

impl LambdaOptions {
    /// The settings as reports show them; no credential appears.
    pub fn redacted_json(&self) -> Value {
        json!({
            "sigv4_region": self.signer.as_ref().map(Signer::region),
            "session_token": self.signer.as_ref().map(Signer::has_session_token),
            "invocation_type": self.invocation_type,
            "log_tail": self.log_tail,
        })
    }
}

/// The function mix of `-t/--target` (JSON `target_function`): a name, `a=3,b=1`, a list of
/// names or a map of weights. `None` when not given.
pub fn function_mix(layers: &Layers) -> Result<Option<Vec<(String, u32)>>> {
    let Some(s) = layers.get("target_function") else {
        return Ok(None);
    };
    let pairs = match &s.value {
        Value::String(text) => parse_functions(text).map_err(|m| s.error(m))?,
        Value::Array(items) if !s.is_text() => items
            .iter()
            .map(|v| v.as_str().map(|n| (n.to_string(), 1)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| s.error("expected an array of function names"))?,
        Value::Object(map) if !s.is_text() => weight_map(s, map)?,
        v => {
            return Err(s.error(format!(
                "expected a name, \"a=3,b=1\", an array of names or an object of weights, got {}",
                type_name(v)
            )))
        }
    };
    check_functions(&pairs).map_err(|m| s.error(m))?;
    Ok(Some(pairs))
}

/// `--aws-sigv4`, `--invocation-type` and `--log-tail`, checked against the route.
pub fn lambda_options(layers: &Layers, route: &Route) -> Result<LambdaOptions> {
    let lambda_route = matches!(route, Route::Lambda);
    let mut out = LambdaOptions::default();
    if let Some(s) = layers.get("aws_sigv4") {
        if !lambda_route && *route != Route::Url {
            return Err(s.error("signs Lambda invocations; use it with --route lambda or --url"));
        }
        let region = match &s.value {
            Value::Bool(true) if !s.is_text() => env_region(),
            Value::String(r) if r == "env" => env_region(),
            Value::String(r) => Some(r.clone()),
            v => {
                return Err(s.error(format!(
                    "expected a region such as us-east-1, or env, got {}",
                    type_name(v)
                )))
            }
        };
        let Some(region) = region else {
            return Err(s.error("needs a region: give one, e.g. us-east-1, or set AWS_REGION"));
        };
        let valid = !region.is_empty()
            && region.len() <= 64
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(s.error(format!(
                "'{region}' is not a region; write e.g. us-east-1 (lower-case letters, digits, -)"
            )));
        }
        out.signer = Some(Signer::from_env(&region).map_err(|m| s.error(m))?);
    }
    if let Some(s) = layers.get("invocation_type") {
        if !lambda_route {
            return Err(s.error("is a Lambda Invoke header; use it with --route lambda"));
        }
        let kind = expect_str(s)?;
        if !matches!(kind, "RequestResponse" | "Event") {
            return Err(s.error(format!(
                "'{kind}' is not an invocation type; use RequestResponse or Event"
            )));
        }
        out.invocation_type = Some(kind.to_string());
    }
    out.log_tail = get_bool(layers, "log_tail")?.unwrap_or(false);
    if out.log_tail {
        let s = layers.get("log_tail").expect("set when true");
        if !lambda_route {
            return Err(s.error("reads Lambda's log tail; use it with --route lambda"));
        }
        if out.invocation_type.as_deref() == Some("Event") {
            return Err(s.error(
                "cannot be combined with --invocation-type Event: asynchronous invocations \
                 return no log",
            ));
        }
    }
    Ok(out)
}

/// The region from `AWS_REGION`, else `AWS_DEFAULT_REGION`.
fn env_region() -> Option<String> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
}

/// `--no-keepalive` and `--max-requests-per-connection N`: how many invocations one
/// connection carries (`None`: as many as the server allows).
pub fn per_connection(layers: &Layers) -> Result<Option<u64>> {
    let no_keepalive = get_bool(layers, "no_keepalive")?.unwrap_or(false);
    let max = get_u64(layers, "max_requests_per_connection", 1, 1_000_000_000)?;
    if let (true, Some(_)) = (no_keepalive, max) {
        let s = layers.get("max_requests_per_connection").expect("set");
        return Err(s.error(
            "cannot be combined with --no-keepalive, which is one invocation per connection",
        ));
    }
    Ok(if no_keepalive { Some(1) } else { max })
}

/// `--warmup DURATION`.
pub fn warmup(layers: &Layers) -> Result<Option<Duration>> {
    let Some(d) = get_duration(layers, "warmup")? else {
        return Ok(None);
    };
    let s = layers.get("warmup").expect("parsed");
    if d.is_zero() {
        return Err(s.error("must be more than 0; write e.g. 10s"));
    }
    if layers.get("stages").is_some() {
        return Err(s.error("cannot be combined with --stages; a ramp warms up by itself"));
    }
    Ok(Some(d))
}

/// `--csv FILE`.
pub fn csv_path(layers: &Layers) -> Result<Option<PathBuf>> {
    Ok(get_string(layers, "csv")?.map(PathBuf::from))
}
