//! The pieces of a threshold expression: the operation scope, the metric name and the bound
//! with its unit, each with a message that says what is accepted.

use super::{Metric, Stat};

/// `p99{op=slow}` into `p99` and `Some("slow")`.
pub(super) fn split_scope(left: &str) -> Result<(&str, Option<String>), String> {
    let Some(open) = left.find('{') else {
        if left.contains('}') {
            return Err("a '}' without '{'; write e.g. p99{op=slow}<500ms".into());
        }
        return Ok((left, None));
    };
    let inner = left[open + 1..]
        .strip_suffix('}')
        .ok_or_else(|| "the scope must end with '}' before the comparison".to_string())?;
    let op = inner
        .strip_prefix("op=")
        .filter(|op| !op.is_empty() && !op.contains(['{', '}', '=', ',']))
        .ok_or_else(|| format!("scope '{{{inner}}}' is not {{op=NAME}}"))?;
    Ok((&left[..open], Some(op.to_string())))
}

pub(super) fn parse_metric(name: &str) -> Option<Metric> {
    let m = match name {
        "min" => Metric::Latency(Stat::Min),
        "mean" | "avg" => Metric::Latency(Stat::Mean),
        "max" => Metric::Latency(Stat::Max),
        "error_rate" => Metric::ErrorRate,
        "throttled_rate" => Metric::ThrottledRate,
        "rps" => Metric::Rps,
        "count" => Metric::Count,
        _ => {
            let q = quantile(name.strip_prefix('p')?)?;
            Metric::Latency(Stat::Quantile(q))
        }
    };
    Some(m)
}

/// `99.9` into 0.999 as the nearest double to 999/1000, the same value the literal `0.999`
/// has, so that `p99.9` measures exactly what the report's `p99_9` shows.
fn quantile(pct: &str) -> Option<f64> {
    let (int, frac) = pct.split_once('.').unwrap_or((pct, ""));
    if int.is_empty()
        || frac.len() > 6
        || !(int.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let scale = 10u64.pow(frac.len() as u32);
    let num = int.parse::<u64>().ok()?.checked_mul(scale)? + frac.parse::<u64>().unwrap_or(0);
    let den = 100 * scale;
    (num > 0 && num <= den).then(|| num as f64 / den as f64)
}

pub(super) fn parse_bound(metric: Metric, text: &str) -> Result<f64, String> {
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(number_end);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("the bound '{text}' does not start with a number"))?;
    match metric {
        Metric::Latency(_) => {
            let scale = match unit {
                "us" | "µs" => 1.0,
                "ms" => 1_000.0,
                "s" => 1_000_000.0,
                "" => return Err(format!("the bound '{text}' needs a unit: us, ms or s")),
                other => return Err(format!("unit '{other}' is not one of us, ms, s")),
            };
            Ok(value * scale)
        }
        Metric::ErrorRate | Metric::ThrottledRate => {
            let ratio = match unit {
                "%" => value / 100.0,
                "" => value,
                other => return Err(format!("unit '{other}' is not %; write e.g. 1% or 0.01")),
            };
            if ratio > 1.0 {
                return Err(format!("the bound '{text}' is above 100%"));
            }
            Ok(ratio)
        }
        Metric::Rps => match unit {
            "" | "/s" => Ok(value),
            other => Err(format!("unit '{other}' is not /s; write e.g. rps>=1000")),
        },
        Metric::Count => {
            if !unit.is_empty() || num.contains('.') {
                return Err(format!("the bound '{text}' is not a whole number"));
            }
            Ok(value)
        }
    }
}
