//! Typed getters over the layered settings: text from flags is parsed, JSON values must have
//! the right type, and every failure names the flag or key and what is accepted.

use super::*;

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

pub(super) fn positive(layers: &Layers, key: &str) -> Result<Option<Duration>> {
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

pub(super) fn show(v: &Value) -> String {
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

/// Names and weights from a JSON object such as `{"fast": 3, "slow": 1}`; the caller checks the
/// range, this only refuses what is not a whole number.
pub fn weight_map(s: &Setting, map: &Map<String, Value>) -> Result<Vec<(String, u32)>> {
    map.iter()
        .map(|(name, w)| {
            let w = w
                .as_u64()
                .filter(|w| *w <= u32::MAX as u64)
                .ok_or_else(|| {
                    s.error(format!(
                        "weight of '{name}' must be a whole number from 1 to 1000000"
                    ))
                })?;
            Ok((name.clone(), w as u32))
        })
        .collect()
}
