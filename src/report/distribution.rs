//! The shape of a latency histogram for charts: a percentile curve and log-spaced bins. The
//! pages draw these rather than decoding HdrHistograms in the browser, so the JavaScript stays
//! small and the numbers come from the same code as the text report.

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Bins of the latency histogram chart.
const BINS: usize = 40;

/// Points of the percentile curve: every tenth of a "nine", from 0 to 99.999 %.
const CURVE_STEPS: u32 = 50;

/// `{"percentiles": [[q, us], ...], "bins": [[low_us, high_us, count], ...]}`, or null when
/// nothing was recorded.
pub fn of(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    json!({"percentiles": percentiles(h), "bins": bins(h)})
}

fn percentiles(h: &Histogram<u64>) -> Vec<(f64, u64)> {
    let mut points: Vec<(f64, u64)> = (0..=CURVE_STEPS)
        .map(|step| {
            let q = 1.0 - 10f64.powf(-f64::from(step) / 10.0);
            (q, h.value_at_quantile(q))
        })
        .collect();
    points.push((1.0, h.max()));
    points
}

/// Log-spaced from the smallest to the largest latency, since latencies span decades.
fn bins(h: &Histogram<u64>) -> Vec<(u64, u64, u64)> {
    let low = h.min().max(1) as f64;
    let high = (h.max().max(1) as f64).max(low + 1.0);
    let step = (high / low).powf(1.0 / BINS as f64);
    let mut edges: Vec<u64> = (0..=BINS)
        .map(|i| (low * step.powi(i as i32)).round() as u64)
        .collect();
    edges.dedup();
    let bins = edges.len().saturating_sub(1).max(1);
    let mut counts = vec![0u64; bins];
    for v in h.iter_recorded() {
        let value = h.median_equivalent(v.value_iterated_to());
        let i = edges.partition_point(|e| *e <= value).saturating_sub(1);
        counts[i.min(bins - 1)] += v.count_at_value();
    }
    let last = edges.len() - 1;
    counts
        .into_iter()
        .enumerate()
        .map(|(i, c)| (edges[i], edges[(i + 1).min(last)], c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;

    #[test]
    fn bins_hold_every_value_and_the_curve_rises() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        let d = of(&h);
        let total: u64 = d["bins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[2].as_u64().unwrap())
            .sum();
        assert_eq!(total, 10_000);
        let curve: Vec<u64> = d["percentiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[1].as_u64().unwrap())
            .collect();
        assert!(curve.windows(2).all(|w| w[0] <= w[1]), "{curve:?}");
        assert_eq!(*curve.last().unwrap(), h.max());
        assert_eq!(of(&new_histogram()), Value::Null);
    }

    #[test]
    fn a_single_value_fills_one_bin() {
        let mut h = new_histogram();
        h.record_n(500, 7).unwrap();
        let d = of(&h);
        let counts: Vec<u64> = d["bins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[2].as_u64().unwrap())
            .collect();
        assert_eq!(counts.iter().sum::<u64>(), 7);
    }
}
