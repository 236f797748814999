//! Load models as pure functions of time, so table tests can pin them down: the open model's
//! schedule (when the i-th invocation is due, for a constant or ramped rate) and the closed
//! model's number of active workers over a ramp.

use std::time::Duration;

/// One ramp segment: move linearly to `target` over `duration`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    /// Length of the segment.
    pub duration: Duration,
    /// Value reached at its end (workers, or invocations per second).
    pub target: f64,
}

/// Piecewise-linear ramps starting from 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Stages(pub Vec<Stage>);

impl Stages {
    /// Sum of the stage durations.
    pub fn total(&self) -> Duration {
        self.0.iter().map(|s| s.duration).sum()
    }

    /// The ramped value at `t` (0 before the first stage starts, the last target after).
    pub fn value_at(&self, t: Duration) -> f64 {
        let mut from = 0.0;
        let mut begin = Duration::ZERO;
        for s in &self.0 {
            let end = begin + s.duration;
            if t < end {
                let frac = (t - begin).as_secs_f64() / s.duration.as_secs_f64();
                return from + (s.target - from) * frac;
            }
            from = s.target;
            begin = end;
        }
        from
    }

    /// Highest target of any stage.
    pub fn peak(&self) -> f64 {
        self.0.iter().map(|s| s.target).fold(0.0, f64::max)
    }

    /// Parses `30s:10,1m:50,30s:0`; with `rate`, targets are rates such as `100/s`.
    pub fn parse(text: &str, rate: bool) -> Result<Stages, String> {
        let example = if rate {
            "30s:100/s,1m:500/s,30s:0/s"
        } else {
            "30s:10,1m:50,30s:0"
        };
        let mut stages = vec![];
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let rates = parts.iter().filter(|p| p.contains('/')).count();
        if rates != 0 && rates != parts.len() {
            return Err(format!(
                "'{text}' mixes worker counts and rates; write all workers (30s:10,1m:50) or \
                 all rates (30s:100/s,1m:500/s)"
            ));
        }
        for part in parts {
            let (d, v) = part
                .split_once(':')
                .ok_or_else(|| format!("stage '{part}' is not DURATION:TARGET; e.g. {example}"))?;
            let duration = crate::duration::parse(d).map_err(|m| format!("stage '{part}': {m}"))?;
            if duration.is_zero() {
                return Err(format!("stage '{part}': the duration must be more than 0"));
            }
            let target = if rate {
                parse_rate_allow_zero(v).map_err(|m| format!("stage '{part}': {m}"))?
            } else {
                let n: u32 = v.trim().parse().map_err(|_| {
                    format!("stage '{part}': '{v}' is not a whole number of workers")
                })?;
                f64::from(n)
            };
            stages.push(Stage { duration, target });
        }
        let s = Stages(stages);
        if s.peak() <= 0.0 {
            return Err(format!("every stage targets 0; e.g. {example}"));
        }
        Ok(s)
    }

    /// Invocations due by time `t` under this rate ramp (the integral of the rate).
    fn count_by(&self, t: Duration) -> f64 {
        let mut from = 0.0;
        let mut begin = Duration::ZERO;
        let mut total = 0.0;
        for s in &self.0 {
            let len = s.duration.as_secs_f64();
            let end = begin + s.duration;
            let x = if t < end {
                (t - begin).as_secs_f64()
            } else {
                len
            };
            total += from * x + (s.target - from) * x * x / (2.0 * len);
            if t < end {
                return total;
            }
            from = s.target;
            begin = end;
        }
        total
    }

    /// When the `i`-th invocation (from 0) is due under this rate ramp; `None` when it falls
    /// after the last stage.
    fn due(&self, i: u64) -> Option<Duration> {
        let want = i as f64;
        let mut from = 0.0;
        let mut begin = 0.0;
        let mut done = 0.0;
        for s in &self.0 {
            let len = s.duration.as_secs_f64();
            let slope = (s.target - from) / len;
            let in_stage = from * len + slope * len * len / 2.0;
            if want < done + in_stage || (want == 0.0 && in_stage > 0.0) {
                // Solve from*x + slope*x²/2 = want - done for the smallest x >= 0.
                let n = want - done;
                let x = if slope.abs() < 1e-12 {
                    n / from
                } else {
                    (-from + (from * from + 2.0 * slope * n).max(0.0).sqrt()) / slope
                };
                return Some(Duration::from_secs_f64(begin + x.clamp(0.0, len)));
            }
            done += in_stage;
            from = s.target;
            begin += len;
        }
        None
    }
}

/// Parses a rate: `500`, `500/s`, `30000/m`, `10/h`; must be more than 0.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let r = parse_rate_allow_zero(text)?;
    if r <= 0.0 {
        return Err(format!("rate '{text}' must be more than 0"));
    }
    Ok(r)
}

fn parse_rate_allow_zero(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, per) = match t.split_once('/') {
        Some((n, unit)) => (n, unit.trim()),
        None => (t, "s"),
    };
    let secs = match per {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("rate unit '/{other}' is not /s, /m or /h")),
    };
    let n: f64 = num
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| format!("'{t}' is not a rate; write e.g. 500, 500/s or 30000/m"))?;
    let r = n / secs;
    if r > 10_000_000.0 {
        return Err(format!("rate '{t}' is above 10000000/s"));
    }
    Ok(r)
}

/// How the open model spaces invocations.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// A constant rate per second.
    Constant(f64),
    /// A ramped rate.
    Ramp(Stages),
}

impl Schedule {
    /// When the `i`-th invocation (from 0) is due after the start; `None` past the schedule.
    pub fn due(&self, i: u64) -> Option<Duration> {
        match self {
            Schedule::Constant(r) => Some(Duration::from_secs_f64(i as f64 / r)),
            Schedule::Ramp(s) => s.due(i),
        }
    }

    /// The target rate at `t`.
    pub fn rate_at(&self, t: Duration) -> f64 {
        match self {
            Schedule::Constant(r) => *r,
            Schedule::Ramp(s) => s.value_at(t),
        }
    }

    /// Invocations due by `t`.
    pub fn count_by(&self, t: Duration) -> f64 {
        match self {
            Schedule::Constant(r) => r * t.as_secs_f64(),
            Schedule::Ramp(s) => s.count_by(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn rates_parse_with_units() {
        let table = [
            ("500", 500.0),     // bare: per second
            ("500/s", 500.0),   // explicit
            ("30000/m", 500.0), // per minute
            ("3600/h", 1.0),    // per hour
            ("0.5", 0.5),       // fractional
        ];
        for (t, want) in table {
            assert_eq!(parse_rate(t).unwrap(), want, "{t}");
        }
        for bad in ["0", "-1", "x", "5/d", "", "nan", "1e9"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn constant_schedule_spaces_evenly() {
        let s = Schedule::Constant(100.0);
        assert_eq!(s.due(0), Some(Duration::ZERO));
        assert_eq!(s.due(100), Some(secs(1.0)));
        assert_eq!(s.count_by(secs(5.0)), 500.0);
    }

    #[test]
    fn worker_ramps_interpolate() {
        let s = Stages::parse("10s:10,10s:10,5s:0", false).unwrap();
        let table = [
            (0.0, 0.0),   // ramps start from 0
            (5.0, 5.0),   // halfway up the first stage
            (15.0, 10.0), // the flat stage
            (22.5, 5.0),  // halfway down
            (30.0, 0.0),  // after the end: the last target
        ];
        for (t, want) in table {
            assert!((s.value_at(secs(t)) - want).abs() < 1e-9, "{t}");
        }
        assert_eq!(s.total(), secs(25.0));
        assert_eq!(s.peak(), 10.0);
    }

    #[test]
    fn rate_ramp_due_times_invert_the_count() {
        let s = Stages::parse("10s:100/s,10s:100/s", true).unwrap();
        // Up-ramp 0→100/s over 10 s holds 500 invocations, the flat stage 1000 more.
        assert!((s.count_by(secs(10.0)) - 500.0).abs() < 1e-9);
        assert!((s.count_by(secs(20.0)) - 1500.0).abs() < 1e-9);
        for i in [1u64, 10, 250, 499, 500, 900, 1499] {
            let t = s.due(i).unwrap();
            assert!((s.count_by(t) - i as f64).abs() < 1e-6, "{i} at {t:?}");
        }
        assert_eq!(s.due(1500), None);
    }

    #[test]
    fn bad_stages_are_rejected() {
        for bad in ["", "30s", "x:10", "0s:10", "10s:-1", "10s:0", "10s:5,oops"] {
            assert!(Stages::parse(bad, false).is_err(), "{bad}");
        }
        assert!(Stages::parse("10s:5/x", true).is_err());
        assert!(Stages::parse("2s:4,2s:10/s", true)
            .unwrap_err()
            .contains("mixes"));
    }
}
