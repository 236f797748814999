//! Parsing and printing of durations as users write them on the command line and in JSON
//! events: `90` (seconds), `90s`, `250ms`, `2m`, `1h30m`.

use std::time::Duration;

/// Parses a duration; a bare number means seconds. Returns a message fragment saying what is
/// accepted when the text is not a duration.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("expected a duration such as 90, 90s, 250ms, 2m or 1h30m".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return from_secs(secs);
    }
    if t.starts_with('-') {
        return Err("a duration cannot be negative".into());
    }
    let d = humantime::parse_duration(t)
        .map_err(|_| "not a duration; use e.g. 90, 90s, 250ms, 2m or 1h30m".to_string())?;
    within_limit(d.as_secs_f64())?;
    Ok(d)
}

/// Durations are added to clock readings; past this they could overflow them.
const MAX_SECS: f64 = 1.0e9;

fn within_limit(secs: f64) -> Result<(), String> {
    if secs > MAX_SECS {
        return Err("a duration must be below 1e9 seconds (about 31 years)".into());
    }
    Ok(())
}

/// Converts a number of seconds (as found in JSON events) into a duration.
pub fn from_secs(secs: f64) -> Result<Duration, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err("a duration must be a finite, non-negative number of seconds".into());
    }
    within_limit(secs)?;
    Ok(Duration::from_secs_f64(secs))
}

/// Formats a duration compactly for reports: `60s`, `1m30s`, `250ms`.
pub fn format(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        humantime::format_duration(d).to_string().replace(' ', "")
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

/// Formats microseconds as milliseconds with two decimals, the unit of the text report.
pub fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let table = [
            ("90", 90_000),       // bare number: seconds
            ("90s", 90_000),      // explicit seconds
            ("2m", 120_000),      // minutes
            ("1h30m", 5_400_000), // compound
            ("250ms", 250),       // sub-second
            ("0.5", 500),         // fractional seconds
            ("0", 0),             // zero is a valid duration (callers decide if it is allowed)
        ];
        for (text, ms) in table {
            assert_eq!(parse(text).unwrap(), Duration::from_millis(ms), "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "abc", "-5", "5 parsecs", "nan", "inf"] {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
    }
}
