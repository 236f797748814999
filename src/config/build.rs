//! Building the parts of a `RunConfig` from the layered settings: target, load model,
//! workload, headers, dashboard and output. Each check names the flag or key it failed on.

use super::*;

/// The first function's target and every function's endpoint.
pub(super) fn build_target(layers: &Layers) -> Result<(Target, Vec<Function>)> {
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
pub(super) fn build_first_target(layers: &Layers, function: &str) -> Result<(Target, String)> {
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

pub(super) fn build_load(layers: &Layers) -> Result<Load> {
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
pub(super) fn parse_think(text: &str) -> std::result::Result<(Duration, Duration), String> {
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

pub(super) fn build_workload(layers: &Layers) -> Result<Workload> {
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

pub(super) fn ops_workload(s: &Setting) -> Result<Workload> {
    match &s.value {
        Value::String(text) => Workload::from_ops_text(text).map_err(|m| s.error(m)),
        Value::Object(map) if !s.is_text() => {
            Workload::from_ops(weight_map(s, map)?).map_err(|m| s.error(m))
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

pub(super) fn get_headers(layers: &Layers) -> Result<Vec<(String, String)>> {
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
pub(super) fn not_a_header(text: &str) -> String {
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

pub(super) fn get_dashboard(layers: &Layers) -> Result<Option<Dashboard>> {
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
pub(super) fn parse_listen(text: &str) -> Option<SocketAddr> {
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

pub(super) fn get_output(layers: &Layers) -> Result<OutputFormat> {
    match layers.get("output") {
        None => Ok(OutputFormat::Text),
        Some(s) => match expect_str(s)? {
            "text" => Ok(OutputFormat::Text),
            "json" => Ok(OutputFormat::Json),
            other => Err(s.error(format!("'{other}' is not a format; use text or json"))),
        },
    }
}
